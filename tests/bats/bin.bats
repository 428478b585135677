#!/usr/bin/env bats
# The bin/ contracts of the Heroku classic buildpack API: arguments, exit codes, stdout.

setup_file() {
  bats_require_minimum_version 1.5.0
}

setup() {
  BP="$BATS_TEST_DIRNAME/../../buildpack"
  FIXTURES="$BATS_TEST_DIRNAME/../fixtures"
  WORK="$(mktemp -d)"
}

teardown() {
  rm -rf "$WORK"
}

@test "detect prints Python and exits 0 for a Python app" {
  run "$BP/bin/detect" "$FIXTURES/wsgi_app"
  [ "$status" -eq 0 ]
  [ "$output" = "Python" ]
}

@test "detect accepts each marker file on its own" {
  for marker in requirements.txt requirements.in setup.py setup.cfg pyproject.toml Pipfile Pipfile.lock \
                poetry.lock uv.lock .python-version runtime.txt manage.py wsgi.py app.py app.sh paste.ini; do
    rm -rf "$WORK/app" && mkdir "$WORK/app" && touch "$WORK/app/$marker"
    run "$BP/bin/detect" "$WORK/app"
    [ "$status" -eq 0 ] || { echo "not detected: $marker"; false; }
  done
}

@test "detect exits 1 with nothing on stdout and an explanation on stderr" {
  run --separate-stderr "$BP/bin/detect" "$FIXTURES/not_python"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *"No Python app found"* ]]
  [[ "$stderr" == *"requirements.txt"* ]]
  [[ "$stderr" == *"index.html"* ]]
}

@test "detect, compile and release reject wrong argument counts with usage and exit 2" {
  run "$BP/bin/detect"
  [ "$status" -eq 2 ] && [[ "$output" == *"usage: bin/detect BUILD_DIR"* ]]
  run "$BP/bin/compile" "$WORK"
  [ "$status" -eq 2 ] && [[ "$output" == *"usage: bin/compile BUILD_DIR CACHE_DIR ENV_DIR"* ]]
  run "$BP/bin/release"
  [ "$status" -eq 2 ] && [[ "$output" == *"usage: bin/release BUILD_DIR"* ]]
}

@test "release prints valid YAML with empty defaults before any compile" {
  mkdir "$WORK/app"
  run --separate-stderr "$BP/bin/release" "$WORK/app"
  [ "$status" -eq 0 ]
  echo "$output" | python -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); assert d == {"addons": [], "default_process_types": {}}, d'
}

@test "release prints the process types a compile generated, as valid YAML" {
  mkdir -p "$WORK/app/.launchpack-runtime"
  cat > "$WORK/app/.launchpack-runtime/launch.json" <<'JSON'
{"processes": {"web": ". ./x.sh && exec gunicorn --bind \"0.0.0.0:$PORT\" a:b", "release": "launchpack_release ./m"}}
JSON
  run --separate-stderr "$BP/bin/release" "$WORK/app"
  [ "$status" -eq 0 ]
  echo "$output" | python -c '
import sys, yaml
d = yaml.safe_load(sys.stdin)
assert d["addons"] == []
assert d["default_process_types"]["web"] == ". ./x.sh && exec gunicorn --bind \"0.0.0.0:$PORT\" a:b", d
assert d["default_process_types"]["release"] == "launchpack_release ./m"'
}

@test "compile fails with a Heroku-style error and no traceback for a non-Python app" {
  cp -r "$FIXTURES/not_python" "$WORK/app"
  run "$BP/bin/compile" "$WORK/app" "$WORK/cache" "$WORK/env"
  [ "$status" -eq 1 ]
  [[ "$output" == *" !     Error: No Python app found"* ]]
  [[ "$output" != *"Traceback"* ]]
  [ -d "$WORK/cache" ]  # CACHE_DIR is created when missing
}

@test "the scripts ignore a PYTHONPATH that would shadow the core" {
  mkdir -p "$WORK/evil/runtime" && echo 'raise SystemExit("shadowed")' > "$WORK/evil/runtime/__init__.py"
  PYTHONPATH="$WORK/evil" run "$BP/bin/detect" "$FIXTURES/wsgi_app"
  [ "$status" -eq 0 ] && [ "$output" = "Python" ]
}

# --- Cloud Native Buildpacks: the same bin/detect, told apart by the CNB_* variables ---

@test "under CNB, detect exits 0 for a Python app (the app is the working directory)" {
  cd "$FIXTURES/wsgi_app"
  CNB_BUILD_PLAN_PATH="$WORK/plan.toml" CNB_PLATFORM_DIR="$WORK/platform" run "$BP/bin/detect" "$WORK/platform" "$WORK/plan.toml"
  [ "$status" -eq 0 ]
  [ ! -s "$WORK/plan.toml" ]  # no build plan entries
}

@test "under CNB, detect exits 100 (not 1, which means error) for a non-Python app" {
  cd "$FIXTURES/not_python"
  CNB_BUILD_PLAN_PATH="$WORK/plan.toml" CNB_PLATFORM_DIR="$WORK/platform" run --separate-stderr "$BP/bin/detect" "$WORK/platform" "$WORK/plan.toml"
  [ "$status" -eq 100 ]
  [[ "$stderr" == *"No Python app found"* ]]
}

@test "build without CNB_LAYERS_DIR (or the positional LAYERS_DIR) is a usage error, exit 2" {
  run env -u CNB_LAYERS_DIR "$BP/bin/build"
  [ "$status" -eq 2 ]
  [[ "$output" == *"usage: bin/build [LAYERS_DIR PLATFORM_DIR PLAN_PATH]"* ]]
}

@test "the buildpack descriptor declares Buildpack API 0.10 and linux amd64 + arm64 targets" {
  python -c '
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
assert d["api"] == "0.10" and d["buildpack"]["id"] == "launchpack/python", d
assert {(t["os"], t["arch"]) for t in d["targets"]} == {("linux", "amd64"), ("linux", "arm64")}, d' "$BP/buildpack.toml"
}

@test "the repository root's bin/ runs the buildpack's (the repository as a buildpack URL)" {
  ROOT="$BATS_TEST_DIRNAME/../.."
  for name in detect compile release build; do
    [ -x "$ROOT/bin/$name" ] || { echo "not executable: bin/$name"; false; }
  done
  run "$ROOT/bin/detect" "$FIXTURES/wsgi_app"
  [ "$status" -eq 0 ]
  [ "$output" = "Python" ]
  run "$ROOT/bin/detect"
  [ "$status" -eq 2 ]
}
