import pytest

import procfile_gen
from procfile_gen import ProcessType


def test_parses_the_grammar_honcho_and_heroku_share():
    procfile = procfile_gen.parse("web: gunicorn app:app\n\n# a comment\nworker-2: celery -A x worker\nre_lease: ./migrate\n")
    assert procfile.as_dict() == {"web": "gunicorn app:app", "worker-2": "celery -A x worker", "re_lease": "./migrate"}


def test_crlf_and_bom_are_tolerated():
    assert procfile_gen.parse("\ufeffweb: a\r\nworker: b\r\n").names == ["web", "worker"]


@pytest.mark.parametrize(
    "line, reason",
    [
        ("worker:", "process type 'worker' has an empty command"),
        ("worker:   ", "process type 'worker' has an empty command"),
        (": run", "expected '<process type>: <command>'"),
        ("just words", "expected '<process type>: <command>'"),
        ("web server: x", "process type names may only use"),
        ("web.1: x", "process type names may only use"),
        ("web :x", "no space before ':'"),
        ("  web: x", "remove the spaces before the process type name"),
        ("web:gunicorn", "put a space after 'web:'"),
    ],
)
def test_invalid_lines_are_reported_with_their_number(line, reason):
    with pytest.raises(procfile_gen.ProcfileError) as caught:
        procfile_gen.parse("web: ok\n" + line + "\n")
    [problem] = caught.value.problems
    assert problem.lineno == 2
    assert reason in problem.reason


def test_duplicates_name_the_first_definition():
    with pytest.raises(procfile_gen.ProcfileError) as caught:
        procfile_gen.parse("web: a\nworker: b\nweb: c\n")
    assert str(caught.value.problems[0]) == "line 3: process type 'web' is already defined on line 1: 'web: c'"


def test_every_problem_is_reported_at_once():
    with pytest.raises(procfile_gen.ProcfileError) as caught:
        procfile_gen.parse("a:\nb:\nc: ok\n")
    assert [p.lineno for p in caught.value.problems] == [1, 2]


def test_commands_keep_colons_and_shell_syntax():
    procfile = procfile_gen.parse('web: . ./env.sh && exec gunicorn --bind "0.0.0.0:$PORT" app:application\n')
    assert procfile.get("web").command == '. ./env.sh && exec gunicorn --bind "0.0.0.0:$PORT" app:application'


def test_render_puts_web_first_and_round_trips():
    processes = [ProcessType("release", "./migrate"), ProcessType("worker", "celery"), ProcessType("web", "gunicorn x")]
    text = procfile_gen.render(processes, header="Generated.\nSecond line.")
    assert text == "# Generated.\n# Second line.\nweb: gunicorn x\nworker: celery\nrelease: ./migrate\n"
    assert procfile_gen.parse(text).as_dict() == {p.name: p.command for p in processes}


@pytest.mark.parametrize("process", [ProcessType("we b", "x"), ProcessType("web", ""), ProcessType("web", "a\nb")])
def test_render_refuses_what_it_could_not_parse_back(process):
    with pytest.raises(ValueError):
        procfile_gen.render([process])
