"""``view-groups`` shows who belongs to a group, not the members' personal data (CWE-359, ASVS 8.3.1).

A member's email, names, status and the rest of their account are what ``view-users`` guards on ``/users``;
a group's member list must not hand them to a holder of ``view-groups`` alone. Without ``view-users`` a member
is their ``id`` and ``username``, and the list is neither searched nor sorted by what it does not show (a
filter on an email would tell, member by member, whose it is). The Groups admin page shows the same.
"""

from __future__ import annotations

import pytest

from support import Api, Browser, assert_invalid, grant, unique, user_via_api


@pytest.fixture(scope="module")
def group_with_member(admin):
    group = admin.ok("POST", "/groups", 201, json={"name": unique("staff")})
    member = user_via_api(admin)
    admin.ok("POST", "/group_members", 201, json={"group_id": group["id"], "member_id": member.id})
    return group, member


@pytest.fixture(scope="module")
def group_viewer(server, admin):
    user = user_via_api(admin)
    grant(admin, user.id, "view-groups")
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201,
                    json={"name": unique("pat"), "scopes": ["groups:read", "users:read"]})
    return user, Api(server, made["accessToken"])


def test_view_groups_alone_lists_members_by_id_and_username_only(admin, group_with_member, group_viewer):
    group, member = group_with_member
    viewer, api = group_viewer
    listed = api.ok("GET", f"/groups/{group['id']}/users")["data"]
    assert listed == [{"id": member.id, "username": member.username}]
    assert member.email not in str(listed)


def test_without_view_users_members_are_not_searched_or_sorted_by_personal_data(admin, group_with_member,
                                                                                group_viewer):
    group, member = group_with_member
    _, api = group_viewer
    assert api.ok("GET", f"/groups/{group['id']}/users", params={"filter": member.email})["data"] == []
    assert api.ok("GET", f"/groups/{group['id']}/users", params={"filter": member.username})["meta"]["total"] == 1
    assert_invalid(api.get(f"/groups/{group['id']}/users", params={"order_by": "email"}), "order_by")


def test_with_view_users_too_members_are_whole_users(admin, group_with_member):
    group, member = group_with_member
    both = user_via_api(admin)
    grant(admin, both.id, "view-groups", "view-users")
    made = admin.ok("POST", f"/users/{both.id}/tokens", 201, json={"name": unique("pat"),
                                                                   "scopes": ["groups:read", "users:read"]})
    [listed] = Api(admin.server, made["accessToken"]).ok("GET", f"/groups/{group['id']}/users")["data"]
    assert listed == admin.ok("GET", f"/users/{member.id}")
    assert Api(admin.server, made["accessToken"]).ok(
        "GET", f"/groups/{group['id']}/users", params={"filter": member.email})["meta"]["total"] == 1


def test_the_group_page_shows_no_member_email_without_view_users(server, group_with_member, group_viewer):
    group, member = group_with_member
    viewer, _ = group_viewer
    browser = Browser(server)
    browser.login(viewer)
    page = browser.get(f"/admin/groups/{group['id']}")
    assert page.status_code == 200 and member.username in page.text
    assert member.email not in page.text
