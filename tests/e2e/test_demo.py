"""The README's first command: `hpf demo` builds, loads and serves the demo centre."""

import re

import requests


def test_demo_serves_the_demo_centre(start_server, tmp_path):
    server = start_server("demo", "--workers", "1", env={"HPF_INSTANCE_PATH": "",
                                                         "HPF_DATABASE_URL": ""})
    output = server.log()
    assert f"访问地址:   http://127.0.0.1:{server.port}/" in output
    assert re.search(r"teller01\s+王芳（柜员）\s+市直营业厅", output)
    assert (tmp_path / "instance" / "hpf.sqlite3").is_file()  # in the working folder

    http = requests.Session()
    page = http.get(server.base + "/")  # the console asks for a login first
    assert page.url.endswith("/login?next=/") and "工作人员登录" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    home = http.post(server.base + "/login?next=/", data={
        "username": "approver01", "password": "Demo@2026", "csrf_token": token})
    assert home.status_code == 200 and "陈刚（审批员）" in home.text
    orgs = http.get(server.base + "/api/v1/organisations").json()
    assert [o["code"] for o in orgs][:2] == ["000000", "001"]
    docs = http.get(server.base + "/api/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
