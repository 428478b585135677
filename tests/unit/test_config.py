from runtime import config


def test_env_dir_is_read_and_the_deny_list_applied(tmp_path):
    for name, value in {"SECRET_KEY": "abc\ndef", "PATH": "/evil", "LD_PRELOAD": "x.so", "DEBUG": "0", "bad-name": "x"}.items():
        (tmp_path / name).write_text(value)
    (tmp_path / "subdir").mkdir()
    vars_ = config.from_env_dir(str(tmp_path))
    assert vars_.values == {"DEBUG": "0", "SECRET_KEY": "abc\ndef"}
    assert vars_.denied == ("LD_PRELOAD", "PATH")


def test_missing_env_dir_means_no_vars(tmp_path):
    assert config.from_env_dir(str(tmp_path / "nope")).values == {}
    assert config.from_env_dir(None).values == {}


def test_flags_follow_heroku_where_zero_is_off():
    vars_ = config.ConfigVars({"A": "1", "B": "0", "C": "", "D": "true", "E": "False"})
    assert [vars_.flag(n) for n in "ABCDEF"] == [True, False, False, True, False, False]


def test_secret_looking_values_are_hidden():
    vars_ = config.ConfigVars({"API_TOKEN": "t0k3n", "DATABASE_URL": "postgres://u:p@h/d", "DEBUG": "1", "NAME": "mysite"})
    assert sorted(vars_.secrets()) == ["postgres://u:p@h/d", "t0k3n"]
