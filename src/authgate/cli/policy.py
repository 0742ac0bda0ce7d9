"""``authgate policy``: who must have a second factor (``FactorPolicyService``), shown and changed by the operator;
a change is audited and applies from each user's next sign-in, in every server process."""

from __future__ import annotations

from authgate.cli.output import emit
from authgate.services.accounts.factors.factor_policy import GROUPS
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.runtime import Runtime

WORDS = {"off": "nobody (each user's choice)", "everyone": "everyone", "administrators": "administrators"}


def _lines(view: dict) -> list[str]:
    if view["require"] == GROUPS:
        return ["second factor required of members of: " + ", ".join(g["name"] for g in view["groups"])]
    return [f"second factor required of: {WORDS[view['require']]}"]


def policy_show(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        view = runtime.factor_policy.current(s, SYSTEM).view()
    emit(args.json, view, _lines(view))


def policy_second_factor(runtime: Runtime, args) -> None:
    ids = [int(g) for g in args.group or [] if g.isdigit()]
    names = [g for g in args.group or [] if not g.isdigit()]
    with runtime.db.session() as s:
        view = runtime.factor_policy.change(s, SYSTEM, GROUPS if args.group else args.require,
                                            group_ids=ids, group_names=names).view()
    emit(args.json, view, _lines(view))
