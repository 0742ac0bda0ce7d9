"""``/admin/users``: people for administrators — list (search, pages; locked accounts, to unlock),
create (with a password, or invited by email to choose their own), edit (names, email, status), reset a
password (ending the user's sessions and OAuth tokens, and on request their API tokens), delete, group membership,
direct permissions, the user's sessions (end one or all: ``UserSessions``), their second factors (listed, reset)
and, for administrators, the user's API tokens. ``UserService``, ``GroupService``, ``PermissionService``,
``PersonalTokenService``, ``FactorService`` and ``Invitations`` decide who may do what, exactly as for the API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.accounts.people.users import STATUSES, awaits_invitation
from authgate.services.errors import Conflict, Forbidden, Invalid, NotFound
from authgate.storage.types import utcnow
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages import record_ids
from authgate.web.pages.account_security import sessions_of
from authgate.web.pages.admin_lists import ALL, list_context, list_query
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.flash import redirect
from authgate.web.pages.permission_form import permission_catalog, save_permissions
from authgate.web.pages.templates import page
from authgate.web.pages.token_form import TokenRequest, make_token, shown_once, token_form_choices
from authgate.web.pages.visitor import permitted_visitor, signed_in_form, signed_in_pairs, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/users"
USER_FIELDS = ("firstname", "lastname", "email", "status")


SORTABLE = ("username", "lastname", "email", "status", "created_at")
FACTOR_WORDS = {"totp": "Authenticator app", "recovery": "Recovery codes", "passkey": "Passkey"}
STATUS_CHOICES = (("", "Any"), ("ACTIVE", "Active"), ("INACTIVE", "Inactive"))


@router.get(BASE)
async def users(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime
    query = list_query(request, "username", sortable=SORTABLE)
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""

    def load():
        with rt.db.session(write=False) as s:
            result = rt.users.list(s, who.principal, query, status=status or None)
            allows = {name: rt.permissions.allows(s, who.principal, name) for name in ("create-users", "edit-users")}
            ids = [u.id for u in result.items]
            return result, allows, rt.lockout.locked(ids), rt.activity.last_sign_ins(s, who.principal, ids)

    result, allows, locked, last_sign_ins = await run_in_threadpool(load)
    return page(request, who, "admin_users.html", users=result.items, may_create=allows["create-users"],
                may_unlock=allows["edit-users"], locked=locked, last_sign_ins=last_sign_ins, status_filter=status,
                status_choices=STATUS_CHOICES, status_words=dict(STATUS_CHOICES)[status].lower() + " " if status else "",
                **list_context(BASE, query, result, {"status": status} if status else None, SORTABLE, "username"))


@router.post(BASE + "/{user_id:id}/unlock")
async def unlock_user(request: Request, user_id: int) -> Response:
    """End a lockout after failed sign-ins (``LoginGuard.unlock``: edit-users, audited)."""
    return await carry_out(request, _username(user_id), lambda rt, s, me: rt.login_guard.unlock(s, me, user_id),
                           then=BASE, flash="User “{name}” unlocked.")


def _new_form(request, who, form=None, error=None, status=200):
    return page(request, who, "admin_user_new.html", status=status, error=error,
                form=form or {"username": "", "email": "", "firstname": "", "lastname": "", "is_administrator": False,
                              "invite": False},
                may_make_administrator=who.user.is_administrator,
                mail_configured=request.app.state.runtime.account_links.mail_configured)


@router.get(f"{BASE}/new")
async def new_user(request: Request) -> Response:
    return _new_form(request, await permitted_visitor(request, "create-users"))


@router.post(f"{BASE}/new")
async def create_user(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    form = {name: fields.get(name, "") for name in ("username", "email", "firstname", "lastname")}
    form["is_administrator"] = fields.get("is_administrator") == "on"
    form["invite"] = fields.get("invite") == "on"
    rt = request.app.state.runtime
    names = {"is_administrator": form["is_administrator"], "firstname": form["firstname"], "lastname": form["lastname"]}

    def create():
        with rt.db.session() as s:
            if form["invite"]:
                user, _ = rt.invitations.invite(s, who.principal, form["username"], form["email"], **names)
            else:
                user = rt.users.create(s, form["username"], form["email"], fields.get("password", ""),
                                       actor=who.principal, **names)
            return user.id, user.username

    try:
        user_id, username = await run_in_threadpool(create)
    except (Invalid, Conflict) as error:
        return _new_form(request, who, form, error, status=422)
    return redirect(request, f"{BASE}/{user_id}", f"User “{username}” created." + (
        " " + _invited(rt, username, form["email"]) if form["invite"] else ""))


def _invited(rt, username: str, email: str) -> str:
    if rt.account_links.mail_configured:
        return f"An invitation was sent to {email}."
    return f"Email is not set up on this server: run `authgate users invite {username}` there to get the link."


@router.post(BASE + "/{user_id:id}/invite")
async def reinvite(request: Request, user_id: int) -> Response:
    """A new invitation for a user who has not chosen a password yet (``Invitations.reinvite``)."""
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def send():
        with rt.db.session() as s:
            rt.invitations.reinvite(s, who.principal, user_id)
            user = rt.users.get(s, user_id)
            return user.username, user.email

    username, email = await run_in_threadpool(send)
    return redirect(request, f"{BASE}/{user_id}", _invited(rt, username, email))


def _user_data(request, who, user_id: int) -> dict:
    rt = request.app.state.runtime
    me = who.principal
    with rt.db.session(write=False) as s:
        user = rt.users.visible(s, me, user_id)
        allows = {name: rt.permissions.allows(s, me, name)
                  for name in ("edit-users", "delete-users", "view-groups", "edit-groups")}
        data = {"target": user, "allows": allows, "statuses": STATUSES,
                "catalog": permission_catalog(rt, s), "direct": rt.permissions.direct_names_of_user(s, user),
                "memberships": [], "groups": [], "tokens": None, "now": utcnow(),
                "viewer_is_administrator": rt.permissions.is_administrator(me),
                "effective": rt.effective_permissions.of_user(s, me, user),
                "last_sign_in": rt.activity.last_sign_ins(s, me, [user.id]).get(user.id),
                **sessions_of(rt, s, who, user.id),
                "invited": awaits_invitation(user), "mail_configured": rt.account_links.mail_configured}
        if allows["view-groups"]:
            data["memberships"] = rt.groups.memberships_of(s, me, user_id)
            joined = {group.id for _, group in data["memberships"]}
            data["groups"] = [g for g in rt.groups.list(s, me, ALL).items if g.id not in joined]
        if data["viewer_is_administrator"]:
            data["tokens"] = rt.personal_tokens.list_for(s, me, user_id, ALL).items
        try:
            data["factors"] = rt.factors.of_user(s, me, user_id) if user.id != me.user.id else None
        except Forbidden:
            data["factors"] = None
        data["factor_words"] = FACTOR_WORDS
        return data


async def _user_page(request, who, user_id: int, status: int = 200, **extra) -> Response:
    data = await run_in_threadpool(_user_data, request, who, user_id)
    errors = {"details_error": None, "password_error": None, "error": None}
    return page(request, who, "admin_user.html", status=status, base=BASE, **token_form_choices(),
                form=extra.pop("form", {}), **data, **{**errors, **extra})


@router.get(BASE + "/{user_id:id}")
async def show_user(request: Request, user_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    return await _user_page(request, who, user_id)


@router.post(BASE + "/{user_id:id}")
async def update_user(request: Request, user_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def update():
        with rt.db.session() as s:
            return rt.users.update(s, who.principal, user_id, {k: fields[k] for k in USER_FIELDS if k in fields},
                                   current_password=fields.get("current_password") or None).username

    try:
        username = await run_in_threadpool(update)
    except (Invalid, Conflict) as error:
        return await _user_page(request, who, user_id, status=422, details_error=error)
    return redirect(request, f"{BASE}/{user_id}", f"User “{username}” saved.")


@router.post(BASE + "/{user_id:id}/password")
async def reset_password(request: Request, user_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def reset():
        if fields.get("password", "") != fields.get("password_confirmation", ""):
            raise Invalid("The two passwords differ.", field="password_confirmation")
        with rt.db.session() as s:
            return rt.users.update(
                s, who.principal, user_id, {"password": fields.get("password", "")},
                current_password=fields.get("current_password"), keep_session=who.session_id,
                revoke_personal_tokens=fields.get("revoke_personal_tokens") == "on").username

    try:
        username = await run_in_threadpool(reset)
    except Invalid as error:
        return await _user_page(request, who, user_id, status=422, password_error=error)
    return redirect(request, f"{BASE}/{user_id}", f"Password of “{username}” reset.")


def _username(user_id: int):
    return lambda rt, s, me: rt.users.visible(s, me, user_id).username


@router.get(BASE + "/{user_id:id}/delete")
async def confirm_delete(request: Request, user_id: int) -> Response:
    return await ask(request, _username(user_id), title="Delete user", button="Delete user",
                     question="Delete “{name}”? They are signed out and every token they hold stops working at once.",
                     action=f"{BASE}/{user_id}/delete", cancel=f"{BASE}/{user_id}")


@router.post(BASE + "/{user_id:id}/delete")
async def delete_user(request: Request, user_id: int) -> Response:
    return await carry_out(request, _username(user_id), lambda rt, s, me: rt.users.delete(s, me, user_id),
                           then=BASE, flash="User “{name}” deleted.")


@router.get(BASE + "/{user_id:id}/factors/reset")
async def confirm_reset_factors(request: Request, user_id: int) -> Response:
    return await ask(request, _username(user_id), title="Reset second factors", button="Reset factors",
                     question="Remove every second factor of “{name}” (authenticator app, recovery codes, passkeys)? "
                              "Their password alone will sign them in until they set up new ones.",
                     action=f"{BASE}/{user_id}/factors/reset", cancel=f"{BASE}/{user_id}")


@router.post(BASE + "/{user_id:id}/factors/reset")
async def reset_factors(request: Request, user_id: int) -> Response:
    """``FactorService.reset``: edit-users and every permission the user holds, audited."""
    return await carry_out(request, _username(user_id), lambda rt, s, me: rt.factors.reset(s, me, user_id),
                           then=f"{BASE}/{user_id}", flash="Second factors of “{name}” reset.")


@router.post(BASE + "/{user_id:id}/groups")
async def join_group(request: Request, user_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def join():
        group_id = record_ids.record_id(fields.get("group_id"))
        if group_id is None:
            raise Invalid("Choose a group.", field="group_id")
        with rt.db.session() as s:
            rt.groups.add_member(s, who.principal, group_id, user_id, None)
            return rt.groups.get(s, who.principal, group_id).name

    name = await run_in_threadpool(join)
    return redirect(request, f"{BASE}/{user_id}", f"Added to the group “{name}”.")


def _membership_group(user_id: int, membership_id: int):
    def name_of(rt, s, me):
        memberships = dict((m.id, g.name) for m, g in rt.groups.memberships_of(s, me, user_id))
        if membership_id not in memberships:
            raise NotFound(f"No group membership with id {membership_id} for this user.")
        return memberships[membership_id]
    return name_of


@router.get(BASE + "/{user_id:id}/groups/{membership_id:id}/remove")
async def confirm_leave_group(request: Request, user_id: int, membership_id: int) -> Response:
    return await ask(request, _membership_group(user_id, membership_id), title="Remove from group",
                     button="Remove from group",
                     question="Remove this user from the group “{name}”? They lose the permissions it gives at once.",
                     action=f"{BASE}/{user_id}/groups/{membership_id}/remove", cancel=f"{BASE}/{user_id}")


@router.post(BASE + "/{user_id:id}/groups/{membership_id:id}/remove")
async def leave_group(request: Request, user_id: int, membership_id: int) -> Response:
    return await carry_out(request, _membership_group(user_id, membership_id),
                           lambda rt, s, me: rt.groups.remove_member(s, me, membership_id),
                           then=f"{BASE}/{user_id}", flash="Removed from the group “{name}”.")


@router.post(BASE + "/{user_id:id}/permissions")
async def set_permissions(request: Request, user_id: int) -> Response:
    return await save_permissions(request, f"{BASE}/{user_id}", user_id=user_id)


@router.post(BASE + "/{user_id:id}/tokens")
async def create_token(request: Request, user_id: int) -> Response:
    who, pairs = await signed_in_pairs(request)
    wanted = TokenRequest.of(pairs)
    try:
        row, token = await make_token(request, who, user_id, wanted)
    except Invalid as error:
        return await _user_page(request, who, user_id, status=422, error=error, form=wanted.form)
    return await shown_once(request, who, row, token, title="New API token", back=f"{BASE}/{user_id}",
                      back_label="Back to the user")


def _token_name(user_id: int, token_id: int):
    return lambda rt, s, me: rt.personal_tokens.get_for(s, me, user_id, token_id).name


@router.get(BASE + "/{user_id:id}/tokens/{token_id:id}/revoke")
async def confirm_revoke_token(request: Request, user_id: int, token_id: int) -> Response:
    return await ask(request, _token_name(user_id, token_id), title="Revoke API token", button="Revoke token",
                     question="Revoke the token “{name}”? Scripts using it will stop working at once.",
                     action=f"{BASE}/{user_id}/tokens/{token_id}/revoke", cancel=f"{BASE}/{user_id}")


@router.post(BASE + "/{user_id:id}/tokens/{token_id:id}/revoke")
async def revoke_token(request: Request, user_id: int, token_id: int) -> Response:
    return await carry_out(request, _token_name(user_id, token_id),
                           lambda rt, s, me: rt.personal_tokens.revoke_for(s, me, user_id, token_id),
                           then=f"{BASE}/{user_id}", flash="Token “{name}” revoked.")


@router.post(BASE + "/{user_id:id}/sessions/{record_id:id}/end")
async def end_session(request: Request, user_id: int, record_id: int) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def end():
        with rt.db.session() as s:
            rt.user_sessions.end_for(s, who.principal, user_id, record_id)

    await run_in_threadpool(end)
    return redirect(request, f"{BASE}/{user_id}", "Session signed out.")


@router.post(BASE + "/{user_id:id}/sessions/end")
async def end_sessions(request: Request, user_id: int) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def end():
        with rt.db.session() as s:
            return rt.user_sessions.end_all_for(s, who.principal, user_id, keep=who.session_id)

    ended = await run_in_threadpool(end)
    return redirect(request, f"{BASE}/{user_id}", f"Signed out {ended} session{'' if ended == 1 else 's'}.")
