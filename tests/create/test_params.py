"""The one parser behind the Create form's parameter controls (create/params.py)."""

import pytest

from tasks_app.create import params


def test_a_prompt_splits_into_its_words_and_its_parameters_in_order():
    parsed = params.parse("a fox, watercolour --ar 3:2 --s 250 --weird 10 --no text, frame --tile")
    assert parsed.text == "a fox, watercolour"
    assert parsed.params == [
        ("ar", "3:2"),
        ("stylize", "250"),
        ("weird", "10"),
        ("no", "text, frame"),
        ("tile", ""),
    ]


def test_the_controls_read_what_the_prompt_says_under_any_spelling():
    shown = params.controls(
        "a fox --aspect 16:9 --version 6.1 --c 20 --quality .5 --seed 42 --style raw --tile"
    )
    assert shown == {
        "ar": "16:9",
        "version": "6.1",
        "stylize": "",
        "chaos": "20",
        "q": ".5",
        "seed": "42",
        "no": "",
        "tile": True,
        "raw": True,
    }
    assert params.controls("a cat --niji 6")["version"] == "niji 6"
    assert params.controls("a cat")["tile"] is False


@pytest.mark.parametrize(
    ("prompt", "values", "written"),
    [
        ("a fox", {"ar": "3:2"}, "a fox --ar 3:2"),
        ("a fox --ar 1:1 --weird 5", {"ar": "3:2"}, "a fox --ar 3:2 --weird 5"),  # in place, others kept
        ("a fox --aspect 1:1", {"ar": "2:3"}, "a fox --ar 2:3"),
        ("a fox --ar 1:1 --s 100", {"ar": ""}, "a fox --stylize 100"),  # emptied: removed
        ("a fox --v 6", {"version": "niji 6"}, "a fox --niji 6"),
        ("a fox --niji 5", {"version": "7"}, "a fox --v 7"),
        ("a fox", {"raw": True, "tile": "on"}, "a fox --tile --style raw"),
        ("a fox --style raw --tile", {"raw": False, "tile": ""}, "a fox"),
        ("a fox --no red", {"no": "text,  watermark"}, "a fox --no text, watermark"),
    ],
)
def test_a_control_writes_plain_text_and_reads_back_the_same(prompt, values, written):
    result = params.apply(prompt, values)
    assert result == written
    for name, value in values.items():
        shown = params.controls(result)[name]
        assert shown == (value in (True, "on") if name in ("raw", "tile") else " ".join(str(value).split()))


def test_without_clearing_an_empty_control_leaves_the_typed_parameter():
    assert (
        params.apply("a fox --ar 4:3", {"ar": "", "seed": "7"}, clear_unset=False)
        == "a fox --ar 4:3 --seed 7"
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ar", "wide", "width:height"),
        ("stylize", "1001", "0 to 1000"),
        ("chaos", "-1", "0 to 100"),
        ("seed", "99999999999", "0 to 4294967295"),
        ("q", "3", "Quality"),
        ("version", "8", "Version"),
        ("no", "x --v 5", "--"),
    ],
)
def test_a_value_midjourney_would_refuse_is_refused_naming_the_control(name, value, says):
    with pytest.raises(params.ParamError, match=says):
        params.apply("a fox --ar 1:1", {name: value})


def test_a_url_or_a_dash_inside_the_words_is_not_a_parameter():
    parsed = params.parse("https://s.mj.run/ab--cd a well-known fox -- really --ar 1:1")
    assert parsed.text == "https://s.mj.run/ab--cd a well-known fox -- really"
    assert parsed.params == [("ar", "1:1")]
