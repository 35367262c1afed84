"""Claude Code local session logs (~/.claude/projects/<project>/<session>.jsonl) -> usage_events.

Tool `claude-code` (events), the same tool and event ids as the OpenTelemetry log events of
claude_code_otel, so a call that both sources hold is one event: whichever is loaded second is
reported as a duplicate or a conflict instead of being counted twice. Load the OpenTelemetry export
first where you have both: its counts are the accurate ones (see below).

One event per model response, from the assistant lines that carry `message.usage`:
event_id `claude-code:<requestId>` (else the message id, else the line's uuid), ts from timestamp,
model from message.model, session_id from sessionId, input_tokens, output_tokens,
cache_creation_input_tokens -> cache_write_tokens, cache_read_input_tokens -> cache_read_tokens
(Anthropic's input_tokens already excludes the cache, as the canonical column does), cost_usd from
costUSD when an older version wrote it. Claude Code writes one line per content block and repeats the
response's usage on each, so lines are merged by message id + request id (the largest value of each
count wins) and the merge is reported. Sub-agent lines (isSidechain, or wrapped in data.message) are
`agent`. A human turn is a user line whose content is typed text (not a tool result, not a meta or
sidechain line): the first response after it is `human`, with prompt_chars and a prompt_fingerprint
(a SimHash; the text itself is never kept), and the responses after that in the same turn are
`agent`, all with the turn's prompt id. Where the log has no human turns for a session, the responses
are `unknown`. `<synthetic>` responses (no model call) are skipped and counted in the warnings.

Whose usage it is: the log does not say. The importer uses, in this order, an identity field on the
line (userEmail, user_email, email, userID, userId, user_id, user), else the account whose home
folder holds the working directory (cwd `/Users/<name>/...`, `/home/<name>/...`, `C:\\Users\\<name>\\...`)
as `os-user:<name>`, else the session as `claude-code-session:<sessionId>`. The last two are plainly
not people: they load as unattributed usage, counted and listed as such by `status`, and join a
person once an identity mapping names them. This keeps the organisation's totals and forecast whole
(rejecting them would hide real consumption) without crediting anyone on a guess. Lines with neither
an identity nor a session id are rejected.

The logs under-count: output_tokens is usually a streaming placeholder that is never updated, and
input_tokens is sometimes 0 or 1 (cache counts are accurate), which every file's warnings repeat.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from analytics import formats
from analytics.formats import Adapter, Converted, frame

TOOL = "claude-code"
IDENTITY_KEYS = ("userEmail", "user_email", "email", "userID", "userId", "user_id", "user")
COUNTS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_creation_input_tokens": "cache_write_tokens",
    "cache_read_input_tokens": "cache_read_tokens",
}
HOME = re.compile(r"^(?:/Users/|/home/|[A-Za-z]:[\\/]+Users[\\/]+)([^/\\]+)")
UNDERCOUNT = (
    "Claude Code session logs under-count: output_tokens is a streaming placeholder that is often never "
    "updated and input_tokens is sometimes 0 or 1 (cache counts are accurate); prefer the OpenTelemetry "
    "export (claude-code-otel) where you have it"
)


def prompt_fingerprint(text: str) -> str | None:
    """64-bit SimHash of a prompt as 16 hex digits: near-identical prompts get near-identical bits.

    Normalised to lower-case words (punctuation, spacing and case do not count); the features are word
    trigrams, or the words themselves for prompts of under three words.
    """
    words = re.findall(r"\w+", text.lower())
    if not words:
        return None
    features = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)] or words
    weights = [0] * 64
    for feature in features:
        bits = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if bits >> bit & 1 else -1
    value = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return f"{value:016x}"


def sniff(head: str) -> bool:
    if any(k in head for k in ('"resourceLogs"', '"resourceMetrics"', '"resourceSpans"')):
        return False
    return '"sessionId"' in head and '"message"' in head and ('"requestId"' in head or '"parentUuid"' in head)


def convert(path: Path) -> Converted:
    out = Converted(warnings=[f"{path.name}: {UNDERCOUNT}"])
    responses: dict[str, dict] = {}  # event id -> row, in file order
    turns: dict[str, dict] = {}  # session -> its open human turn {"prompt_id", "chars", "fingerprint", "started"}
    stand_ins: set[str] = set()  # identities that name an account or a session, not a person
    merged = 0
    skipped: Counter[str] = Counter()
    for line, record in formats.iter_json_lines(path, out.rejects):
        if not isinstance(record, dict):
            out.rejects.append((line, "line is not a JSON object", json.dumps(record)[:10_000]))
            continue
        session = record.get("sessionId")
        message, envelope, nested = _message(record)
        if record.get("type") == "user" or (message or {}).get("role") == "user":
            text = _typed_text(record, message)
            if text is not None and session:
                turns[str(session)] = {
                    "prompt_id": record.get("promptId") or record.get("uuid"),
                    "chars": len(text),
                    "fingerprint": prompt_fingerprint(text),
                    "started": False,
                }
            continue
        usage = (message or {}).get("usage")
        if usage is None:
            skipped[f"{record.get('type') or 'untyped'} line without model usage"] += 1
            continue
        if not isinstance(usage, dict):
            out.rejects.append((line, "message.usage is not an object", json.dumps(record)[:10_000]))
            continue
        if message.get("model") == "<synthetic>":
            skipped["<synthetic> response (no model call)"] += 1
            continue
        user, stand_in = _identity(record)
        if user is None:
            reason = "line names neither a person nor a session (no identity field, no sessionId)"
            out.rejects.append((line, reason, json.dumps(record)[:10_000]))
            continue
        event_id = f"{TOOL}:{_response_key(record, envelope, message)}"
        counts = {column: usage.get(name) for name, column in COUNTS.items()}
        if event_id in responses:
            merged += 1
            _merge_counts(responses[event_id], counts)
            continue
        row = {
            "_line": line,
            "_raw": record,
            "event_id": event_id,
            "ts": envelope.get("timestamp") or record.get("timestamp"),
            "user_id": user,
            "tool": TOOL,
            "model": message.get("model"),
            "session_id": session,
            **counts,
            "cost_usd": envelope.get("costUSD", record.get("costUSD")),
        }
        row.update(_initiator(record, envelope, nested, turns))
        responses[event_id] = row
        if stand_in:
            stand_ins.add(user)
    if merged:
        out.warnings.append(
            f"{path.name}: {merged} line(s) repeated a response already read (same message and request id) "
            "and were merged into it"
        )
    if skipped:
        notes = ", ".join(f"{n} × {what}" for what, n in sorted(skipped.items()))
        out.warnings.append(f"{path.name}: not loaded as usage: {notes}")
    if stand_ins:
        shown = ", ".join(sorted(stand_ins)[:5]) + (" …" if len(stand_ins) > 5 else "")
        out.warnings.append(
            f"{path.name}: the log does not say whose it is; its usage loads as unattributed ({shown}) "
            "until an identity mapping names a person"
        )
    out.tables = {"usage_events": frame("usage_events", list(responses.values()))}
    return out


def _message(record: dict) -> tuple[dict | None, dict, bool]:
    """(message, the object that holds it, whether it is a sub-agent line wrapped in data.message)."""
    message = record.get("message")
    if isinstance(message, dict):
        return message, record, False
    data = record.get("data")
    inner = data.get("message") if isinstance(data, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("message"), dict):
        return inner["message"], inner, True
    return None, record, False


def _response_key(record: dict, envelope: dict, message: dict) -> str:
    """The API request id, which every line of one response repeats; else the message id, else the line."""
    request_id = envelope.get("requestId") or record.get("requestId")
    if request_id:
        return str(request_id)
    if message.get("id"):
        return f"msg:{message['id']}"
    if record.get("uuid"):
        return f"line:{record['uuid']}"
    return "line:" + hashlib.sha1(json.dumps(record, sort_keys=True).encode()).hexdigest()[:20]


def _typed_text(record: dict, message: dict | None) -> str | None:
    """The text a person typed, when this user line is one (not a tool result, meta or sidechain line)."""
    if record.get("isMeta") or record.get("isSidechain") or not message:
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        blocks = [b for b in content if isinstance(b, dict)]
        if any(b.get("type") == "tool_result" for b in blocks):
            return None
        texts = [str(b.get("text") or "") for b in blocks if b.get("type") == "text"]
        return "\n".join(texts) if texts else None
    return None


def _identity(record: dict) -> tuple[str | None, bool]:
    """(user_id, whether it stands in for an unknown person)."""
    for key in IDENTITY_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip(), False
    match = HOME.match(str(record.get("cwd") or ""))
    if match:
        return f"os-user:{match.group(1)}", True
    if record.get("sessionId"):
        return f"claude-code-session:{record['sessionId']}", True
    return None, False


def _merge_counts(row: dict, counts: dict[str, Any]) -> None:
    """A repeated response: keep the largest of each count (later lines can only have more)."""
    for column, value in counts.items():
        old, new = _as_int(row.get(column)), _as_int(value)
        if old is not None and new is not None and new > old:
            row[column] = value


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _initiator(record: dict, envelope: dict, nested: bool, turns: dict) -> dict:
    """initiated_by, the turn's prompt id, and for the response that starts a human turn its prompt."""
    turn = turns.get(str(record.get("sessionId") or ""))
    if nested or envelope.get("isSidechain") or record.get("isSidechain"):
        return {"initiated_by": "agent", "prompt_id": turn["prompt_id"] if turn else None}
    if turn is None:  # no human turn seen yet in this session
        return {"initiated_by": "unknown"}
    if turn["started"]:
        return {"initiated_by": "agent", "prompt_id": turn["prompt_id"]}
    turn["started"] = True
    return {
        "initiated_by": "human",
        "prompt_id": turn["prompt_id"],
        "prompt_chars": turn["chars"],
        "prompt_fingerprint": turn["fingerprint"],
    }


ADAPTERS = [
    Adapter(
        "claude-code-sessions",
        "Claude Code local session logs (~/.claude/projects/*.jsonl) -> usage events (tool claude-code); "
        "under-counts output, prefer claude-code-otel",
        sniff,
        convert,
        order=60,  # after the OpenTelemetry export, whose counts win for calls both hold
    )
]
