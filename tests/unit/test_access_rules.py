"""Access-control rules: 三员分立, no self-grant, role kinds, data scope by organisation."""

from __future__ import annotations

import pytest

from hpf.domain import access
from hpf.domain.access import AccessRuleBroken, OrgNode, RoleHeld

SYS = RoleHeld("sysadmin", "系统管理员", access.SYSTEM, True)
SEC = RoleHeld("secadmin", "安全管理员", access.SECURITY, True)
AUD = RoleHeld("auditadmin", "审计管理员", access.AUDIT, True)
TELLER = RoleHeld("teller", "柜员", access.BUSINESS, True)
REVIEWER = RoleHeld("reviewer", "复核员", access.BUSINESS, True)

# centre 1 -> branches 2, 3 -> counters 4 (under 2), 5 (under 3)
NODES = {1: OrgNode(1, "centre", None), 2: OrgNode(2, "branch", 1), 3: OrgNode(3, "branch", 1),
         4: OrgNode(4, "counter", 2), 5: OrgNode(5, "counter", 3)}


def code_of(call) -> str:
    with pytest.raises(AccessRuleBroken) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize("pair", [(SYS, SEC), (SYS, AUD), (SEC, AUD)])
def test_the_three_administrators_are_mutually_exclusive(pair):
    assert code_of(lambda: access.check_role_set(pair)) == "admin_roles_exclusive"


@pytest.mark.parametrize("admin", [SYS, SEC, AUD])
def test_an_administrator_holds_no_business_role(admin):
    assert code_of(lambda: access.check_role_set([admin, TELLER])) == "admin_business_exclusive"


def test_business_roles_combine_and_one_admin_role_alone_is_fine():
    access.check_role_set([TELLER, REVIEWER])
    access.check_role_set([SEC])
    access.check_role_set([])


def test_nobody_grants_themselves():
    assert code_of(lambda: access.check_grant(7, 7)) == "self_grant"
    access.check_grant(7, 8)


def test_roles_hold_only_permissions_of_their_kind():
    access.check_role_permissions(access.BUSINESS, ["unit:open", "remittance:post"])
    assert code_of(lambda: access.check_role_permissions(access.BUSINESS, ["user:manage"])) == \
        "permission_kind_mismatch"
    assert code_of(lambda: access.check_role_permissions(access.AUDIT, ["grant:manage"])) == \
        "permission_kind_mismatch"
    assert code_of(lambda: access.check_role_permissions(access.BUSINESS, ["nope:x"])) == "unknown_permission"
    assert code_of(lambda: access.check_role_permissions("root", [])) == "unknown_role_kind"


def test_builtin_roles_and_held_roles_cannot_be_edited():
    assert code_of(lambda: access.check_role_edit(TELLER, held_by_editor=False)) == "builtin_role"
    custom = RoleHeld("cashier", "出纳", access.BUSINESS, False)
    assert code_of(lambda: access.check_role_edit(custom, held_by_editor=True)) == "self_grant"
    access.check_role_edit(custom, held_by_editor=False)


def test_builtin_roles_follow_the_rules_and_admins_hold_no_business_permission():
    for spec in access.BUILTIN_ROLES:
        access.check_role_permissions(spec.kind, spec.permissions)
    admin_perms = {p for r in access.BUILTIN_ROLES if r.kind in access.ADMIN_KINDS for p in r.permissions}
    assert not admin_perms & {p.code for p in access.CATALOGUE if p.kind == access.BUSINESS}
    by_code = access.BUILTIN_BY_CODE
    assert "audit:view" in by_code["auditadmin"].permissions
    assert "audit:view" not in by_code["sysadmin"].permissions | by_code["secadmin"].permissions
    assert "grant:manage" in by_code["secadmin"].permissions
    assert "grant:manage" not in by_code["sysadmin"].permissions
    assert "user:manage" not in by_code["secadmin"].permissions


def test_second_factor_is_mandatory_for_administrators_only():
    assert access.needs_second_factor([access.SYSTEM])
    assert access.needs_second_factor([access.AUDIT])
    assert not access.needs_second_factor([access.BUSINESS])
    assert not access.needs_second_factor([])


def test_default_scope_is_the_branch_a_counter_belongs_to():
    assert access.home_scope_root(NODES[4], NODES) == 2
    assert access.home_scope_root(NODES[2], NODES) == 2
    assert access.home_scope_root(NODES[1], NODES) == 1


def test_scope_is_a_subtree():
    branch = access.scope_for(2, NODES)
    assert branch.org_ids == frozenset({2, 4})
    assert branch.covers(4) and not branch.covers(3) and not branch.covers(5) and not branch.covers(None)
    centre = access.scope_for(1, NODES)
    assert centre.everything and centre.covers(5)
    assert access.scope_for(4, NODES).org_ids == frozenset({4})


def test_a_cycle_in_the_tree_cannot_widen_a_scope():
    looped = {**NODES, 2: OrgNode(2, "branch", 4)}  # 2 -> 4 -> 2, detached from the centre
    assert access.scope_for(2, looped).org_ids == frozenset({2, 4})


def test_nobody_hands_out_a_scope_wider_than_their_own():
    branch = access.scope_for(2, NODES)
    access.check_scope_grant(branch, 4)
    assert code_of(lambda: access.check_scope_grant(branch, 1)) == "scope_too_wide"
    assert code_of(lambda: access.check_scope_grant(branch, 3)) == "scope_too_wide"
    access.check_scope_grant(access.scope_for(1, NODES), 3)
