"""The catalogue of failures a user can cause, each with what happened, where, and the fix.

Every known failure is one class here. Code raises it with the facts (file names, versions,
exit codes); the adapters print ``error.render()`` and exit non-zero. Keeping the words in one
place keeps them consistent, and keeps tracebacks away from users: anything that is *not* a
LaunchpackError is a bug in launchpack and is reported as one.
"""

from __future__ import annotations


class LaunchpackError(Exception):
    """A failure the user can fix. Subclasses fill in title/detail/fix templates."""

    title = "The build failed"
    detail = ""
    fix = ""

    def __init__(self, **facts: object):
        self.facts = facts
        super().__init__(self.render_title())

    def _fmt(self, template: str) -> str:
        return template.format(**self.facts) if template else ""

    def render_title(self) -> str:
        return self._fmt(self.title)

    def render(self) -> list[str]:
        """The message as lines (without the ' !     ' prefix the adapters add)."""
        lines = [self.render_title()]
        for part in (self._fmt(self.detail), self._fmt(self.fix)):
            if part:
                lines.append("")
                lines.extend(part.splitlines())
        return lines


# --- detection ---------------------------------------------------------------------------


class NotAPythonApp(LaunchpackError):
    title = "No Python app found in {app_dir}"
    detail = "launchpack looked for any of:\n  {looked_for}\nand found only:\n  {found}"
    fix = (
        "Add a requirements.txt (or pyproject.toml, Pipfile, ...) at the root of your repository,\n"
        "or, if your app is in a subdirectory, deploy that directory."
    )


class AppDirMissing(LaunchpackError):
    title = "The app directory {app_dir} does not exist"
    fix = "Pass the directory that holds your app."


# --- configuration -----------------------------------------------------------------------


class UsageError(LaunchpackError):
    title = "{message}"
    fix = "{usage}"


class ConfigFileUnreadable(LaunchpackError):
    title = "Could not read {path}"
    detail = "{reason}"
    fix = "Make sure {path} is a readable text file (UTF-8)."


# --- Python version ----------------------------------------------------------------------


class MalformedPythonVersion(LaunchpackError):
    title = "{source} does not contain a Python version launchpack understands"
    detail = "It contains: {shown}"
    fix = "Write a version such as '3.11' (recommended: major.minor) or '3.11.2' on a line of its own.{hint}"


class ConflictingPythonVersionLines(LaunchpackError):
    title = "{source} names more than one Python version: {versions}"
    fix = "Keep one version in {source}."


class UnknownPythonVersion(LaunchpackError):
    title = "Python {requested} is not available"
    detail = "{source} asks for Python {requested}, but launchpack can only provide: {available}."
    fix = "Change {source} to one of those versions{default_hint}."


class PythonVersionEndOfLife(LaunchpackError):
    title = "Python {requested} has reached its end of life"
    detail = "{source} asks for Python {requested}; its support ended on {eol}, so it gets no security fixes."
    fix = "Change {source} to a supported version: {supported}."


class PythonSourcesDisagree(LaunchpackError):
    title = "{winner_source} asks for Python {winner}, which pyproject.toml's requires-python ({spec}) excludes"
    fix = "Make them agree: change {winner_source}, or requires-python in pyproject.toml."


class RequiresPythonExcludesDefault(LaunchpackError):
    title = "pyproject.toml's requires-python ({spec}) excludes the default Python {default}"
    detail = "requires-python does not name a single feature version, so launchpack would use its default."
    fix = "Pin the version you want in a .python-version file, e.g. '{suggestion}'."


class ManagedPythonFailed(LaunchpackError):
    title = "Could not download Python {version}"
    detail = "The stack has no Python {version}, and uv python install exited with status {code}; its output is above."
    fix = (
        "Python {version} is downloaded from python-build-standalone. If the build cannot reach it, set the\n"
        "config var UV_PYTHON_INSTALL_MIRROR to a mirror of its releases, or pin a version the stack has ({stack})."
    )


class RunpathCannotBeRewritten(LaunchpackError):
    title = "Could not point {path} at the app's own copy of Python"
    detail = "Its {kind} is {old}\nwhich is in the build cache, and would have to become {new}\nbut {reason}."
    fix = (
        "This file was compiled at build time against the Python in the build cache, which the app will not\n"
        "have when it runs. Install a prebuilt wheel of the package it belongs to instead of building it from\n"
        "source, or pin a Python version the stack has (then nothing links to the cache), and please report\n"
        "the file to launchpack."
    )


class RunpathIntoBuildDir(LaunchpackError):
    title = "Compiled files in the app's environment would look for libraries in the build's directories"
    detail = (
        "These files have a RUNPATH or RPATH entry in the build cache or build directory, which do not exist\n"
        "where the app runs, so they would fail to load there (cannot open shared object file):\n  {files}"
    )
    fix = (
        "Look for the packages these files belong to: their build links against a library outside the\n"
        "environment (e.g. one built in a bin/pre_compile hook in the build directory). Install their prebuilt\n"
        "wheels, or build the library inside the app's environment so that it travels with it."
    )


class NoStackPython(LaunchpackError):
    title = "No Python interpreter found on this stack"
    detail = "launchpack looked for python3 executables in {searched}."
    fix = "Use a stack (build image) that has python3, e.g. heroku-24."


# --- dependencies ------------------------------------------------------------------------


class VirtualenvFailed(LaunchpackError):
    title = "Could not create the app's Python environment"
    detail = "{command} exited with status {code}."
    fix = (
        "This usually means the stack's Python lacks the venv module (Debian/Ubuntu: python3-venv).\n"
        "The output above shows the cause."
    )


class EnvironmentInterpreterBroken(LaunchpackError):
    title = "The app's Python environment has no working interpreter{after}: {problem}"
    detail = (
        "The environment ({venv}) would not start where the app runs: its web process would exit\n"
        "with 'python: not found'. The build stops here instead of deploying it, and the broken\n"
        "environment is not kept in the build cache."
    )
    fix = (
        "This is a bug in launchpack (or an installer replaced the environment it was given):\n"
        "please report it with the build output above. Building again usually works."
    )


class CommittedVirtualenv(LaunchpackError):
    title = "Your repository contains a virtual environment: {path}"
    detail = "A virtual environment built on your machine does not work on the platform."
    fix = "Remove it from the repository (git rm -r --cached {path}) and add it to .gitignore."


class DependencyInstallFailed(LaunchpackError):
    title = "Installing dependencies from {source} failed"
    detail = "{installer} exited with status {code}; its output is above."
    fix = (
        "Check the package names and versions in {source} (a typo, or a version that does not\n"
        "exist on the package index, is the usual cause), then push again."
    )


class MultipleDependencySources(LaunchpackError):
    title = "Your app has more than one dependency file: {found}"
    detail = "launchpack installs dependencies from exactly one source, and cannot tell which one you use."
    fix = "Keep the one your app uses ({hint}) and delete the others."


class PipfileWithoutLock(LaunchpackError):
    title = "Your app has a Pipfile but no Pipfile.lock"
    detail = "launchpack installs Pipenv apps with `pipenv install --deploy`, which needs the lock file."
    fix = "Run `pipenv lock` and commit Pipfile.lock."


class PoetryWithoutLock(LaunchpackError):
    title = "Your pyproject.toml has [tool.poetry.dependencies] but there is no poetry.lock"
    fix = "Run `poetry lock` and commit poetry.lock."


class LockFileOutdated(LaunchpackError):
    title = "{lock} is out of date with {manifest}"
    detail = "{tool} refuses to install from a lock file that does not match the project: its output is above."
    fix = "Run `{command}` and commit {lock}."


class RequirementsCompileFailed(LaunchpackError):
    title = "Could not compile requirements.in into pinned requirements"
    detail = "pip-compile exited with status {code}; its output is above."
    fix = (
        "Check the names and versions in requirements.in. To see the pins before you push, run\n"
        "`launchpack lock` (or pip-compile) and commit the requirements.txt it writes."
    )


class UnknownInstaller(LaunchpackError):
    title = "LAUNCHPACK_INSTALLER={value} is not an installer launchpack knows"
    fix = "Set it to uv (the default) or pip, or unset it."


class ToolInstallFailed(LaunchpackError):
    title = "Could not install {tool}, which launchpack needs to build your app"
    detail = "{command} exited with status {code}; its output is above."
    fix = "This is usually a network problem reaching the package index; push again to retry."


# --- hooks -------------------------------------------------------------------------------


class HookNotExecutable(LaunchpackError):
    title = "The hook {hook} is not executable"
    fix = (
        "Make it executable and commit that: chmod +x {hook} && git update-index --chmod=+x {hook}\n"
        "(hooks run directly, so they also need a '#!' line such as #!/bin/bash)."
    )


class HookFailed(LaunchpackError):
    title = "The hook {hook} failed with exit status {code}"
    detail = "Its output is above."
    fix = "Fix the hook (it runs from the app directory with your app's environment active), then push again."


class HookCannotRun(LaunchpackError):
    title = "The hook {hook} could not be started"
    detail = "{reason}"
    fix = "Check its first line: it must start with '#!' and name an interpreter that exists, e.g. #!/bin/bash."


# --- Django ------------------------------------------------------------------------------


class DjangoSettingsNotFound(LaunchpackError):
    title = "Could not find your Django settings module"
    detail = "{reason}"
    fix = "Set the config var DJANGO_SETTINGS_MODULE to your settings module, e.g. mysite.settings."


class DjangoSettingsModuleMissing(LaunchpackError):
    title = "Django settings module '{settings}' does not exist"
    detail = "{source} names '{settings}', but there is no {candidates} in your app."
    fix = "Correct the module name in {source} (it is a dotted Python path relative to the app root)."


class DjangoSettingsBroken(LaunchpackError):
    title = "Your Django settings module '{settings}' could not be loaded"
    detail = "{error}"
    fix = (
        "Fix the error in {where}, or, to skip collectstatic and the build's checks of your settings,\n"
        "set the config var DISABLE_COLLECTSTATIC=1."
    )


class DjangoNotInstalled(LaunchpackError):
    title = "Your app has a manage.py, but Django is not installed"
    fix = "Add Django to {source} (e.g. a line 'Django>=5.2,<6'), then push again."


class CollectstaticFailed(LaunchpackError):
    title = "python manage.py collectstatic --noinput failed with exit status {code}"
    detail = "Its output is above."
    fix = (
        "Fix the error shown, or, if your app does not need static files collected at build time,\n"
        "set the config var DISABLE_COLLECTSTATIC=1."
    )


# --- processes ---------------------------------------------------------------------------


class ProcfileInvalid(LaunchpackError):
    title = "Your Procfile has invalid lines"
    detail = "{problems}"
    fix = "Each line must be '<process type>: <command>', e.g. 'web: gunicorn myproject.wsgi'."


class NoWebProcess(LaunchpackError):
    title = "launchpack cannot tell how to start your app"
    detail = (
        "Found no app.sh, app.py, production.ini or paste.ini, manage.py, wsgi.py or main.py, no package\n"
        "whose __init__.py defines app, application, create_app or make_app, and no Procfile with a 'web:' line."
    )
    fix = (
        "{hint}Add a wsgi.py that defines 'application', set LAUNCHPACK_WSGI_APP=module:callable\n"
        "(or module:create_app() for an app factory), or add a Procfile with a 'web:' line."
    )

    def __init__(self, **facts: object):
        facts.setdefault("hint", "")
        super().__init__(**facts)


class WsgiAppInvalid(LaunchpackError):
    title = "The config var LAUNCHPACK_WSGI_APP={value} is not a WSGI entry point launchpack understands"
    detail = "{reason}."
    fix = (
        "Write it as gunicorn does: module:name (e.g. myapp.wsgi:application), or module:factory()\n"
        "for an app factory, with literal arguments if any (e.g. flaskr:create_app())."
    )


class SeveralWsgiApps(LaunchpackError):
    title = "Several of your app's packages define a WSGI app: {found}"
    detail = "launchpack serves one, and cannot tell which."
    fix = "Set the config var LAUNCHPACK_WSGI_APP to the one to serve (e.g. LAUNCHPACK_WSGI_APP={example})."

    def __init__(self, **facts: object):
        facts.setdefault("example", str(facts.get("found", "")).split(", ")[0])
        super().__init__(**facts)


class AsgiApp(LaunchpackError):
    title = "Your app's entry point {target} is an ASGI application ({what}), not a WSGI one"
    detail = (
        "launchpack serves apps with a WSGI server (mod_wsgi, gunicorn, uWSGI, waitress), which would\n"
        "answer every request to an ASGI app (FastAPI, Starlette, Quart, Litestar, Django's asgi.py)\n"
        "with an error. launchpack cannot serve ASGI apps yet."
    )
    fix = (
        "Until it can, start an ASGI server yourself: add uvicorn to your requirements and a Procfile with\n"
        '  web: uvicorn {module}:{name} --host 0.0.0.0 --port "$PORT"\n'
        "or, if your app also has a WSGI callable, set LAUNCHPACK_WSGI_APP to it."
    )


# --- the launchpack command (the local workflow) -----------------------------------------


class NotBuiltYet(LaunchpackError):
    title = "The project {name} has not been built yet"
    detail = "Its environment {env_dir} holds no build."
    fix = "Build it first: launchpack build"


class EnvBelongsToAnotherProject(LaunchpackError):
    title = "The launchpack environment '{name}' belongs to another project: {other_dir}"
    detail = "This project is {app_dir}."
    fix = (
        'Give this project its own environment: eval "$(launchpack activate ANOTHER-NAME)",\n'
        "or, if {other_dir} is gone or moved here, remove the old one first: launchpack destroy {name}"
    )


class NoSuchEnv(LaunchpackError):
    title = "There is no launchpack environment named '{name}'"
    detail = "Environments in {envs_dir}: {names}"
    fix = "Check the name; environments are created by launchpack activate (or launchpack build)."


class EnvIsActive(LaunchpackError):
    title = "'{name}' is the project active in this shell"
    fix = "Run deactivate first (or use another shell), then: launchpack destroy {name}"


class ProjectDirMissing(LaunchpackError):
    title = "The active project's directory {app_dir} no longer exists"
    fix = 'Run deactivate, then activate the project where it is now: cd DIR && eval "$(launchpack activate)"'


class NothingToLock(LaunchpackError):
    title = "There is no requirements.in in {app_dir}"
    detail = "launchpack lock compiles requirements.in (the packages you ask for) into requirements.txt (every pin)."
    fix = (
        "Write your top-level requirements in requirements.in (one per line, e.g. Django>=5.2),\n"
        "then run launchpack lock."
    )


class RunHookMissing(LaunchpackError):
    title = "Your app has no {hook}"
    detail = "launchpack {command} runs that hook from your app's directory, in its environment."
    fix = "Create it as an executable script (chmod +x {hook}), for example:\n\n  #!/bin/bash\n  set -e\n  {example}"


class RunHookFailed(LaunchpackError):
    title = "{hook} failed with exit status {code}"
    detail = "Its output is above."
    fix = "Fix it (it runs from your app's directory, in its environment), then run launchpack {command} again."


class HonchoMissing(LaunchpackError):
    title = "launchpack {command} needs honcho, which is not installed next to launchpack ({python})"
    fix = "Install launchpack with its dependencies (pipx install . or pip install -e .), or: pip install honcho"


class EnvScriptFailed(LaunchpackError):
    title = "The project's environment script {path} failed with exit status {code}"
    detail = "{output}"
    fix = "Build the project again (launchpack build), which rewrites it."


class InvalidPort(LaunchpackError):
    title = "PORT={value} (from {source}) is not a port number"
    fix = "Set PORT to a number such as 8080, or remove it to use launchpack's default (8080)."


class PortInUse(LaunchpackError):
    title = "Port {port} is already in use (PORT {port} from {source})"
    detail = "Another program (another launchpack start?) is listening on port {port}:\nthe server cannot bind it."
    fix = "Stop that program, or choose another port: PORT={other} launchpack start (or PORT={other} in .env)."


class LaunchpackHomeUnusable(LaunchpackError):
    title = "launchpack cannot write to {path}"
    detail = "{reason}"
    fix = "Make it writable for you, or keep launchpack's environments elsewhere: export LAUNCHPACK_HOME=DIR"


# --- web server --------------------------------------------------------------------------


class AppShNotExecutable(LaunchpackError):
    title = "app.sh is not executable"
    detail = "launchpack starts your app by running app.sh, so it must be executable."
    fix = (
        "Make it executable and commit that: chmod +x app.sh && git update-index --chmod=+x app.sh\n"
        "(it also needs a '#!' line such as #!/bin/bash, and must `exec` your server so that it gets SIGTERM)."
    )


class UnknownServer(LaunchpackError):
    title = "Unknown web server '{name}'"
    detail = "{source} asks for '{name}'."
    fix = "Use one of: {valid}."


class ServerFileInvalid(LaunchpackError):
    title = "{path} must contain one word, the web server's name"
    detail = "It contains: {found}"
    fix = "Write one of: {valid}."


class UnknownServerMode(LaunchpackError):
    title = "Unknown LAUNCHPACK_SERVER_MODE '{mode}'"
    fix = (
        "Use 'auto' (launchpack configures the server) or 'minimal' (only the port and logging;\n"
        "you configure the rest in the server's own config file or .launchpack/server_args)."
    )


class ServerArgsInvalid(LaunchpackError):
    title = "{path} cannot be split into arguments"
    detail = "{reason}"
    fix = "It holds extra command-line arguments for the web server, quoted as in a shell, e.g. --timeout 60."


class ModWsgiUnavailable(LaunchpackError):
    title = "mod_wsgi cannot be built on this stack"
    detail = "{source} asks for mod_wsgi, which needs {problem}."
    fix = (
        "Use a stack with Apache's development files (apache2-dev), add mod_wsgi-httpd to your\n"
        "requirements (it bundles Apache), or choose another server: LAUNCHPACK_SERVER=gunicorn."
    )


class EntryPointNotWsgi(LaunchpackError):
    title = "Your app's entry point {target} is {what}, not a WSGI callable"
    detail = "A WSGI server calls it as app(environ, start_response); every request would fail."
    fix = "Point LAUNCHPACK_WSGI_APP (or wsgi.py's application) at your WSGI app, e.g. a Flask or Django application."


class PkgResourcesMissing(LaunchpackError):
    title = "Your app needs pkg_resources, which your environment does not have"
    detail = "{error}{frames}"
    fix = (
        "pkg_resources comes with setuptools, before version 82 (it is not installed by default in new\n"
        "environments). Add 'setuptools<82' to {dependency_file}, or upgrade what imports it (older\n"
        "PasteDeploy and Pyramid releases do: PasteDeploy 3.1 and Pyramid 2.1 work without it)."
    )


class DjangoChecksFailed(LaunchpackError):
    title = "Django's system checks found errors in your app"
    detail = "{error}"
    fix = (
        "Fix them{where}: an app that fails its checks would answer every request with an error. The build\n"
        "runs `manage.py check` with your config vars set; if your checks need a service the build cannot\n"
        "reach, set the config var LAUNCHPACK_SKIP_DJANGO_CHECKS=1."
    )


class EntryPointImportFailed(LaunchpackError):
    title = "Your app's WSGI entry point {target} could not be loaded"
    detail = "{error}"
    fix = (
        "Fix the error{where}. The build imports the entry point once, with your config vars set,\n"
        "so that this fails here rather than on the first request after the deploy. If it can only\n"
        "be imported where the app runs, set the config var LAUNCHPACK_SKIP_IMPORT_CHECK=1."
    )


# --- issue 10: what the build will not walk into (runtime/apptree.py) -----------------------


class LinkOutsideApp(LaunchpackError):
    title = "{count} symbolic link(s) in the app lead outside it ({after})"
    detail = "{links}"
    fix = (
        "The build copies and serves what links point at, so a link out of the app could publish a file of\n"
        "the build machine (or its environment, through /proc). Replace each link with a copy of the file\n"
        "it points at, or with a relative link to a file inside the app."
    )


class SpecialFileInStatic(LaunchpackError):
    title = "A FIFO, socket or device is among the app's static files ({after})"
    detail = "{files}"
    fix = (
        "Static files are copied and served, and reading a FIFO or device blocks. Remove these files\n"
        "(or have the hook that creates them create them elsewhere, outside the static directories)."
    )


class ServedAppFailed(LaunchpackError):
    title = "Your app loads, but not as the web process serves it: with its static files ({root})"
    detail = "{error}"
    fix = (
        "The web process wraps the app in WhiteNoise, which reads every file of the static root when it\n"
        "starts. Remove dangling links from the static files and make their directories readable (a hook\n"
        "may have changed them), or serve the static files another way (see README: static files)."
    )


# --- issue 10: run-time settings and hook messages ---


class HookCarriageReturn(LaunchpackError):
    title = r"The hook {hook} cannot run: the first line ends with a carriage return (\r)"
    detail = (
        "Its first line is {shown}. With Windows line endings '{word}' is read as '{word}\\r', which\n"
        "does not exist: the system then reports 'No such file or directory'."
    )
    fix = (
        "Save the file with Unix line endings (LF), e.g. sed -i 's/\\r$//' {hook}, and commit it\n"
        "(git config core.autocrlf input keeps Git from converting it back on Windows)."
    )


class HookDanglingSymlink(LaunchpackError):
    title = "The hook {hook} is a symlink to {target}, which does not exist"
    detail = "{hook} points at {resolved}; there is no file there in the app."
    fix = (
        "Point the symlink at a script that is in your repository (ln -sf TARGET {hook}), or replace it\n"
        "with the script itself, and commit that."
    )


class RunTimeWarning(LaunchpackError):
    """A config var read when a process starts that launchpack ignores (the process still starts).

    Printed as one line, "launchpack: <title> <fix>", by the run-time modules in the app's runtime
    dir, which import this file's copy (launchpack_errors.py) there: the words stay in this catalogue.
    So this file must keep importing nothing but the standard library (tests/unit/test_hardening_runtime.py
    runs the copy on its own).
    """

    def one_line(self) -> str:
        return " ".join(part for part in (self.render_title(), self._fmt(self.detail), self._fmt(self.fix)) if part)


class RunSettingInvalid(RunTimeWarning):
    title = "ignoring the config var {name}={value!r}: {accepted};"
    fix = "using {default} ({why}). Set {name} to a whole number such as {example}, or unset it."


class PythonHomeIgnored(RunTimeWarning):
    title = (
        "ignoring the config var PYTHONHOME={value!r}: it would point the app's Python away from its own"
        " standard library (Python would stop with 'Fatal Python error');"
    )
    fix = "the app's environment has its own. Unset it (heroku config:unset PYTHONHOME, or delete it from .env)."


class PythonPathEntriesIgnored(RunTimeWarning):
    title = (
        "ignoring {entries} in the config var PYTHONPATH: outside the app ({app_dir}), where nothing was"
        " built for it (another Python's modules there would break it);"
    )
    fix = "entries inside the app are kept: put those modules in the app and name them relative to it (PYTHONPATH=src)."


# --- issue 10: why an installer failed (runtime/installers/failure.py) ----------------------


class InstallDiskFull(LaunchpackError):
    title = "Installing dependencies from {source} failed: the disk is full"
    detail = "{installer} could not write (No space left on device); its output is above."
    fix = (
        "The build directory or the build cache ran out of space. Remove large files from the app (or\n"
        "list them in .slugignore), drop dependencies you do not use, or clear the build cache\n"
        "(heroku builds:cache:purge), then push again."
    )


class RequirementsNotUtf8(LaunchpackError):
    title = "{path} is not UTF-8 text{where}"
    fix = (
        "Installers read requirements files as UTF-8. Save {path} as UTF-8 (a Latin-1 'é', for example,\n"
        "is one byte that UTF-8 does not accept), then push again."
    )


class EditableVcsRequirement(LaunchpackError):
    title = "{path}, line {line}: an editable requirement from Git, which uv cannot install"
    detail = "It says: -e {requirement}"
    fix = (
        "uv installs Git sources, but not as editable: remove the '-e ' (the package is then\n"
        "installed from the repository, which is what a deploy needs), or set the config var\n"
        "LAUNCHPACK_INSTALLER=pip to install it with pip."
    )


class IndexUnreachable(LaunchpackError):
    title = "Installing dependencies from {source} failed: the package index {index} could not be reached"
    detail = "{installer} could not connect to it; its output is above."
    fix = (
        "Check the index URL (--index-url / --extra-index-url in {source}, or PIP_INDEX_URL /\n"
        "UV_INDEX_URL among your config vars) and that the index is up and reachable from the build."
    )


# --- issue 10: cache faults ---
# OS-level faults (a full disk, a path the build cannot read or write) as the failures they are,
# with the path and the fix: runtime/faults.py decides which, from the OSError and where it hit.


class AppFileUnreadable(LaunchpackError):
    title = "launchpack cannot read {path} in your app"
    detail = (
        "{reason}. The build reads every file of your app (to tell whether anything changed since\n"
        "the last build), and the platform would fail to package an unreadable file into the slug."
    )
    fix = (
        "Make it readable (chmod a+r {path}) or delete it. If a build hook (bin/pre_compile, bin/post_compile,\n"
        ".launchpack/build) makes it unreadable, change the hook; if it is a secret, keep it out of the\n"
        "repository and pass it as a config var."
    )


class BuildDirFull(LaunchpackError):
    title = "The build directory is out of space"
    detail = "{reason} while writing {path}.{details}"
    fix = (
        "Your app and its Python environment need more space than the build has. Make the app smaller:\n"
        "remove large files from the repository (or list them in .slugignore) and dependencies the app\n"
        "does not use, then push again. The build cache stays usable for the next build."
    )


class CacheFull(LaunchpackError):
    title = "The build cache is out of space"
    detail = "{reason} while writing {path}.{details}"
    fix = (
        "Clear the build cache (Heroku: heroku builds:cache:purge -a YOUR-APP; elsewhere: empty the\n"
        "cache directory), then build again: the cache is refilled with only what this app needs."
    )


class PathNotWritable(LaunchpackError):
    title = "The build cannot write {path}"
    detail = "{reason}.{details}"
    fix = (
        "The build writes into the app directory ({app_dir}): make sure it is on a writable filesystem\n"
        "and owned by the user the build runs as, and that no build hook made part of it read-only."
    )


class OsFault(LaunchpackError):
    title = "The build failed on {path}: {reason}"
    detail = "{details}"
    fix = (
        "This is a fault of the machine the build runs on (its disk or filesystem), or of a file a build\n"
        "hook changed. Build again; if it happens again, report it with the output above."
    )


class CacheNotSaved(LaunchpackError):
    """Not an error: printed as a warning, because a cache that cannot be written must not fail a
    build that is otherwise complete."""

    title = "The build cache could not be written ({reason}: {path})"
    detail = (
        "Not kept for the next build: {what}. This build is complete and deploys as usual; the next\n"
        "one rebuilds what was not kept."
    )
    fix = "{fix}"


class CacheUnusable(LaunchpackError):
    """A warning too: the build then runs without a cache, as an app's first build does."""

    title = "The build cache {path} cannot be written ({reason}): building without it"
    detail = "Nothing is reused from it and nothing is saved to it, so this build takes as long as a first build."
    fix = "{fix}"
