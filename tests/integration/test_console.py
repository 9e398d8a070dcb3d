"""The console shell: sign-in page with CSRF, home page, sign-out."""

import re


def csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_home_requires_login_and_keeps_the_target(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/")


def test_login_form_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "teller01", "password": "Demo@2026"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_bad_password_shows_a_clear_message(client):
    token = csrf(client)
    response = client.post("/login", data={"username": "teller01", "password": "x",
                                           "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_login_home_logout(client):
    token = csrf(client)
    response = client.post("/login?next=/", data={"username": "teller01",
                                                  "password": "Demo@2026", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "王芳（柜员）" in home and "市直营业厅" in home
    assert "SQLite" not in home  # system facts need system:view (the teller's home has none)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_no_open_redirect_after_login(client):
    token = csrf(client)
    response = client.post("/login?next=//evil.example/", data={
        "username": "teller01", "password": "Demo@2026", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_names_are_escaped(client):
    token = csrf(client)
    response = client.post("/login", data={"username": "<script>alert(1)</script>",
                                           "password": "x", "csrf_token": token})
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
