"""runtime/tomlfile.py: the writer's output reads back; the fallback parser (for stacks without
tomllib) agrees with tomllib on what the lifecycle and our writer produce."""

from __future__ import annotations

import pytest
import tomllib

from runtime import tomlfile

SAMPLES = {
    "lifecycle-restored layer": """[metadata]
  format = "1"
  digest = "abc"
  [metadata.env]
    python = "3.11.2"
    dependencies = "0123"
  [metadata.target]
    arch = "amd64"
    distro_name = "debian"
""",
    "launch.toml": """[[processes]]
type = "web"
command = ["bash", "-c", "exec gunicorn --bind \\"0.0.0.0:$PORT\\" app:app"]
default = true

[[processes]]
type = "release"
command = ["bash", "-c", 'exec ./hook']  # a comment
default = false
""",
    "buildpack.toml": """api = "0.10"
[buildpack]
id = "launchpack/python"
keywords = [ "python",
  "django", # trailing comments in arrays
]
[[buildpack.licenses]]
type = "MIT"
[[targets]]
os = "linux"
arch = "amd64"
[[targets.distros]]
name = "ubuntu"
version = "24.04"
[[targets]]
os = "linux"
arch = "arm64"
""",
    "plan with alternatives": """[[provides]]
name = "python"
[[requires]]
name = "python"
[requires.metadata]
version = "3.12"
build = true
[[or]]
[[or.requires]]
name = "other"
""",
    "scalars": """a = 1_000
b = -3.5e2
c = +inf
d = 0x1F
e = 'C:\\\\literal'
f = \"\"\"
multi
line\"\"\"
g = '''raw
lines'''
h = "tab\\tnewline\\nunicode\\u00e9"
"quoted key" = true
dotted.key.path = "x"
i = { x = 1, y = [1, 2], z = { w = "v" } }
j = []
""",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_fallback_parser_agrees_with_tomllib(name):
    assert tomlfile.parse(SAMPLES[name]) == tomllib.loads(SAMPLES[name])


def test_written_toml_reads_back_with_both_parsers():
    data = {
        "types": {"launch": True, "build": False, "cache": True},
        "metadata": {"env": {"python": "3.11.2", "odd key": 'quote " and \\ and\nnewline é'}, "count": 3, "ratio": 0.5},
        "processes": [{"type": "web", "command": ["bash", "-c", 'exec x "$PORT"'], "default": True}],
        "skipped": None,
    }
    text = tomlfile.dumps(data)
    expected = {k: v for k, v in data.items() if v is not None}
    assert tomllib.loads(text) == expected
    assert tomlfile.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ['a = "unterminated', "a = 1\na = 2", "[t]\nx = 1 y = 2", 'a = "bad \\q escape"', "= 1", "a = [1, 2"],
)
def test_fallback_parser_rejects_invalid_toml(text):
    with pytest.raises(tomlfile.TOMLError):
        tomlfile.parse(text)
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
