"""The generator of ``tests/vectors/comment_vectors.json`` (docs/ARCHITECTURE.md, Comments).

Run ``python -m support.comment_vectors`` from ``tests/`` to write the file again; the vectors
are signed with anvil's well-known dev accounts 0 (the creator) and 1 (the commenter), public
test keys of no value. ``tests/unit/feed/test_comment_vectors.py`` checks every id and
signature, the EIP-712 digests against eth-account, and each case's verdict.
"""

from __future__ import annotations

import json
from typing import Any

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.records import (
    SCHEMAS,
    ZERO_ID,
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Moderation,
    Record,
)
from peer.feed.signatures import address_of
from peer.feed.wire import Envelope, encode
from support.vectors import VECTORS_DIR

KEY_CREATOR = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
KEY_COMMENTER = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
CREATED = 1_764_460_800
NOW = 1_764_547_200
TOKENS = 10**18


def _signed(record: Record, key: str) -> tuple[Envelope, dict[str, Any]]:
    envelope = sign_record(record, DOMAIN, bytes.fromhex(key))
    return envelope, {
        "kind": envelope.kind,
        "wire": encode(envelope).decode(),
        "id": "0x" + digest(record, DOMAIN).hex(),
        "signature": "0x" + envelope.signature.hex(),
    }


def build() -> dict[str, Any]:
    """The whole vector file as a JSON-ready dict."""
    creator = address_of(bytes.fromhex(KEY_CREATOR))
    commenter = address_of(bytes.fromhex(KEY_COMMENTER))
    log = CreatorLog(DOMAIN, bytes.fromhex(KEY_CREATOR), TOKEN)
    post, post_id = log.next_post(MANIFEST, "Comment on me", CREATED)
    post_wire = encode(post).decode()
    comment, comment_v = _signed(
        Comment(commenter, post_id, ZERO_ID, "Nice clip ✨", CREATED + 60), KEY_COMMENTER
    )
    comment_id = digest(comment.record, DOMAIN)
    _reply, reply_v = _signed(
        Comment(creator, post_id, comment_id, "Thanks!", CREATED + 120), KEY_CREATOR
    )
    _mod, mod_v = _signed(Moderation(creator, comment_id, True, CREATED + 180), KEY_CREATOR)
    _pol, pol_v = _signed(CommentPolicy(creator, post_id, 5 * TOKENS, CREATED + 240), KEY_CREATOR)
    _bad, control_v = _signed(
        Comment(commenter, post_id, ZERO_ID, "bell\x07 and newline\n", CREATED + 60), KEY_COMMENTER
    )
    _long, long_v = _signed(
        Comment(commenter, post_id, ZERO_ID, "x" * 501, CREATED + 60), KEY_COMMENTER
    )
    _future, future_v = _signed(
        Comment(commenter, post_id, ZERO_ID, "from the future", NOW + 301), KEY_COMMENTER
    )
    _other, other_mod_v = _signed(
        Moderation(commenter, comment_id, True, CREATED + 180), KEY_COMMENTER
    )
    _orphan, orphan_v = _signed(
        Comment(commenter, bytes(range(32)), ZERO_ID, "on a post nobody has", CREATED + 60),
        KEY_COMMENTER,
    )
    _withdrawal, withdrawal_v = _signed(
        CommentWithdrawal(commenter, comment_id, CREATED + 300), KEY_COMMENTER
    )
    _theft, theft_v = _signed(CommentWithdrawal(creator, comment_id, CREATED + 300), KEY_CREATOR)
    topic = "toktok/1/comments/" + creator.lower()
    with_post = [post_wire]
    with_comment = [post_wire, comment_v["wire"]]
    with_policy = [post_wire, pol_v["wire"]]
    withdrawn = [post_wire, comment_v["wire"], withdrawal_v["wire"]]

    def case(
        name: str,
        text: str,
        record: dict[str, Any],
        state: list[str],
        verdict: str,
        holdings: dict[str, int] | None = None,
        on: str = topic,
    ) -> dict[str, Any]:
        return {
            "name": name,
            "description": text,
            "state": state,
            "holdings": holdings or {},
            "now": NOW,
            "record": record,
            "topic": on,
            "verdict": verdict,
        }

    return {
        "note": (
            "Comment-record vectors (docs/ARCHITECTURE.md, Comments). Signed with anvil dev"
            " accounts 0 (creator of the post) and 1 (commenter), public test keys of no value."
            " 'state' are wire records stored before the case; 'holdings' the effective"
            " balance (holding rule) of the creator's token per holder; 'registry' maps the"
            " creator to its token; 'verdict' is the validator's outcome at 'now'. A"
            " CommentWithdrawal deletes its author's comment and the replies to it."
        ),
        "domain": {
            "name": "Toktok",
            "version": "1",
            "chainId": DOMAIN.chain_id,
            "verifyingContract": DOMAIN.verifying_contract,
        },
        "types": {
            schema.struct: {
                "typeString": schema.type_string,
                "fields": [{"name": w, "type": t} for w, _a, t in schema.fields],
            }
            for schema in (
                SCHEMAS[Comment],
                SCHEMAS[Moderation],
                SCHEMAS[CommentPolicy],
                SCHEMAS[CommentWithdrawal],
            )
        },
        "signers": {"creator": creator, "commenter": commenter},
        "registry": {creator: TOKEN},
        "post": {"wire": post_wire, "id": "0x" + post_id.hex()},
        "cases": [
            case("comment", "a comment on a stored post", comment_v, with_post, "accept"),
            case("reply", "the creator answers the comment", reply_v, with_comment, "accept"),
            case("moderation", "the creator hides the comment", mod_v, with_comment, "accept"),
            case("policy", "holders of 5 tokens only", pol_v, with_post, "accept"),
            case(
                "control_characters",
                "BEL and a newline in the text: Ignored (no penalty), never stored",
                control_v,
                with_post,
                "ignore:control-characters",
            ),
            case("too_long", "501 characters", long_v, with_post, "reject:invalid-field"),
            case(
                "future", "createdAt 301 s ahead", future_v, with_post, "reject:created-in-future"
            ),
            case(
                "moderation_by_other",
                "the commenter tries to hide a comment on the creator's post",
                other_mod_v,
                with_comment,
                "reject:moderation-not-own-post",
                on="toktok/1/comments/" + commenter.lower(),
            ),
            case("unknown_post", "post not held", orphan_v, [], "ignore:unknown-post"),
            case(
                "holders_only_below",
                "holders-only post, the commenter holds 4.99 tokens",
                comment_v,
                with_policy,
                "ignore:not-holder",
                {commenter: 5 * TOKENS - 10**16},
            ),
            case(
                "holders_only_at_threshold",
                "holders-only post, the commenter holds 5 tokens",
                comment_v,
                with_policy,
                "accept",
                {commenter: 5 * TOKENS},
            ),
            case(
                "withdrawal",
                "the commenter withdraws (deletes) their comment",
                withdrawal_v,
                with_comment,
                "accept",
            ),
            case(
                "withdrawal_by_other",
                "the post's creator tries to withdraw the commenter's comment",
                theft_v,
                with_comment,
                "reject:withdrawal-not-own-comment",
            ),
            case(
                "withdrawal_unknown_comment",
                "a withdrawal of a comment this peer never held",
                withdrawal_v,
                with_post,
                "ignore:unknown-target",
            ),
            case(
                "comment_after_withdrawal",
                "the withdrawn comment arrives again (from a peer that predates withdrawals)",
                comment_v,
                withdrawn,
                "ignore:duplicate",
            ),
            case(
                "moderation_after_withdrawal",
                "the creator's moderation of a withdrawn comment, whatever its createdAt",
                mod_v,
                withdrawn,
                "ignore:unknown-target",
            ),
            case(
                "reply_after_withdrawal",
                "an answer to a withdrawn comment",
                reply_v,
                withdrawn,
                "ignore:unknown-parent",
            ),
        ],
    }


def main() -> None:
    path = VECTORS_DIR / "comment_vectors.json"
    path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
