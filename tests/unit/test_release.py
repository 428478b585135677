import yaml

from runtime.adapters.heroku import release_yaml


def test_release_yaml_is_valid_and_quotes_shell_commands():
    commands = {"web": '. ./e.sh && exec gunicorn --bind "0.0.0.0:$PORT" app:app', "release": "launchpack_release ./x: y"}
    parsed = yaml.safe_load(release_yaml(commands))
    assert parsed == {"addons": [], "default_process_types": commands}


def test_release_yaml_without_processes():
    assert yaml.safe_load(release_yaml({})) == {"addons": [], "default_process_types": {}}
