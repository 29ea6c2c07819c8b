"""Reading task IDs out of pasted text."""

from tasks_app.ids import parse_ids

A, B, C = "1743326750223591", "1730621826053455", "1730621826053456"


def test_newlines_commas_spaces_and_tabs_all_separate_ids():
    parsed = parse_ids(f"{A}\n{B}, {C}\t{A}")
    assert parsed.ids == [A, B, C]
    assert parsed.duplicates == 1
    assert parsed.rejected == []


def test_a_json_array_is_read_as_a_list_of_ids():
    parsed = parse_ids(f'["{B}", "{A}", {C}]')
    assert parsed.ids == [B, A, C]


def test_ids_are_found_inside_a_pasted_curl_command():
    curl = (
        "curl --location --request POST 'https://relay.example/mj/task/list-by-condition' "
        f'--header \'Content-Type: application/json\' --data-raw \'{{"ids": ["{A}","{B}"]}}\''
    )
    parsed = parse_ids(curl)
    assert parsed.ids == [A, B]
    assert parsed.rejected == []


def test_ids_are_found_in_a_log_line_and_a_fetch_url():
    parsed = parse_ids(f"2025-04-17 task {A} done; see /mj/task/{B}/fetch")
    assert parsed.ids == [A, B]
    assert [token for token, _ in parsed.rejected] == ["2025-04-17"]


def test_each_rejected_token_comes_with_its_reason():
    parsed = parse_ids(f"{A} 12345 17433abc26750 {'9' * 70}")
    assert parsed.ids == [A]
    reasons = dict(parsed.rejected)
    assert "too short" in reasons["12345"]
    assert "digits only" in reasons["17433abc26750"]
    assert any("too long" in reason for reason in reasons.values())


def test_order_of_first_occurrence_is_kept():
    parsed = parse_ids(f"{C} {A} {C} {B} {A}")
    assert parsed.ids == [C, A, B]
    assert parsed.duplicates == 2


def test_plain_words_are_ignored_not_rejected():
    parsed = parse_ids(f"please look at {A} thanks")
    assert parsed.ids == [A]
    assert parsed.rejected == []
    assert parsed.ignored_words == 4


def test_millisecond_timestamps_inside_log_lines_are_not_taken_for_ids():
    line = (
        f'2025-04-17 12:00:01 {{"ts":1743326750223,"taskId":"{A}"}} time: 1743326750224 ts=1743326750225 {B}'
    )
    parsed = parse_ids(line)
    assert parsed.ids == [A, B]
    assert all("174332675022" not in token for token, _ in parsed.rejected)


def test_a_bare_thirteen_digit_id_on_its_own_line_is_still_an_id():
    parsed = parse_ids("1743326750223\n1743326750224")
    assert parsed.ids == ["1743326750223", "1743326750224"]
