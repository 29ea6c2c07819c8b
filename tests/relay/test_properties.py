"""Properties on arbitrary input (hypothesis): the ID parser and the payload normaliser.

Whatever a person pastes or a relay sends, they never raise, never invent (an
ID that is not in the text, a status that is not in the payload), and the
normaliser keeps the payload as received, cleaned only of what no database or
page can hold.
"""

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tasks_app.ids import parse_ids
from tasks_app.relay import is_task_id, normalise_envelope, normalise_task
from tasks_app.relay.records import MAX_TASKS_PER_SUBMIT
from tasks_app.text import MAX_DEPTH, clean_json, clean_text

PROPERTIES = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
ASCII_ID = "1743326750223591"

# Text a paste is made of: digits of several scripts, separators, brackets, letters.
PASTE_ALPHABET = "0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９²¹ ,;|\t\n[]{}\"'`()<>.:=!?-_/abcxyz任务"
pastes = st.one_of(
    st.text(),
    st.text(alphabet=PASTE_ALPHABET, max_size=400),
    st.lists(st.sampled_from([ASCII_ID, "1730621826053455", "١٧٤٣٣٢٦٧٥٠٢٢٣٥٩١", "12345"]), max_size=8).map(
        ", ".join
    ),
)


@PROPERTIES
@given(pastes)
@example("[" * 100_000)
@example("١٧٤٣٣٢٦٧٥٠٢٢٣٥٩١ １７４３３２６７５０２２３５９１")
@example(f'["{ASCII_ID}", [{ASCII_ID}], {{"a": 1}}, null, 1e999]')
def test_parse_ids_never_raises_and_returns_only_ascii_ids_from_the_text_each_once(text):
    parsed = parse_ids(text)

    assert all(is_task_id(task_id) for task_id in parsed.ids)
    assert len(parsed.ids) == len(set(parsed.ids))
    assert all(task_id in text for task_id in parsed.ids)


def _json(*, clean: bool):
    """JSON values as json.loads makes them; `clean`: nothing the normaliser must change."""
    text = (
        st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
        if clean
        else (
            st.text(alphabet=st.characters(codec=None), max_size=20)
            | st.sampled_from(["\x00", "a\ud800", "\udfff"])
        )
    )
    floats = st.floats(allow_nan=not clean, allow_infinity=not clean)
    scalars = st.none() | st.booleans() | st.integers() | floats | text
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=20,
    )


def _tasks(*, clean: bool):
    value = _json(clean=clean)
    ids = st.sampled_from([ASCII_ID, "１７４３３２６７５０２２３５９１", "<script>", "", "1234"]) | value
    statuses = st.sampled_from(["SUCCESS", " in_progress ", "FAILURE", "", "MODAL"]) | value
    fields = [
        "prompt",
        "progress",
        "imageUrl",
        "imageUrls",
        "buttons",
        "properties",
        "submitTime",
        "failReason",
    ]
    return st.fixed_dictionaries({"id": ids, "status": statuses}, optional=dict.fromkeys(fields, value))


def _status_text(value) -> str:
    """The status as the payload states it: its text, or nothing for null, objects and arrays."""
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return clean_text(str(value)).strip().upper()


def _deep(levels: int):
    value: object = "bottom"
    for _ in range(levels):
        value = {"next": value}
    return value


@PROPERTIES
@given(st.one_of(_tasks(clean=False), _json(clean=False)))
@example({"id": ASCII_ID, "status": "SUC\x00CESS", "properties": _deep(3 * MAX_DEPTH)})
@example({"id": ASCII_ID, "status": float("nan"), "progress": float("inf")})
def test_normalise_task_never_raises_never_invents_a_status_and_keeps_the_cleaned_payload(payload):
    record = normalise_task(payload)

    if record is None:
        return
    assert is_task_id(record.id)
    stated = payload.get("status")
    if isinstance(stated, str):
        assert record.status == _status_text(stated)
    else:  # a number may be read as its text; NaN, objects and arrays are no status
        assert record.status in ("", _status_text(stated))
    assert 0 <= record.progress <= 100
    assert record.raw == clean_json(payload)
    json.dumps(record.raw, ensure_ascii=False, allow_nan=False).encode("utf-8")  # what jsonb and pages take


@PROPERTIES
@given(_tasks(clean=True))
def test_a_clean_payload_is_kept_exactly_as_received(payload):
    record = normalise_task(payload)
    if record is not None:
        assert record.raw == payload


@PROPERTIES
@given(st.dictionaries(st.sampled_from(["code", "description", "result", "properties"]), _json(clean=False)))
@example({"code": 1, "result": ",".join([ASCII_ID] * 3 + [f"17433267502236{i:02d}" for i in range(50)])})
def test_a_submit_answer_names_only_ascii_ids_each_once_and_a_few_at_most(payload):
    ids = normalise_envelope(payload).task_ids
    assert all(is_task_id(task_id) for task_id in ids)
    assert len(ids) == len(set(ids)) <= MAX_TASKS_PER_SUBMIT
