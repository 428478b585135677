"""A Heroku app across deploys: the release phase and the web formation.

How Heroku behaves (Dev Center "Release Phase"), and how this models it:
- every successful build creates a release; if the slug has a `release` process type, it runs in
  a one-off dyno (here: `Heroku.run_one_off` as the dyno user with DYNO=release.N) BEFORE any web
  dyno boots the new release;
- a release command that exits non-zero fails the release: the new slug never serves, and the
  web dyno of the previous release keeps running (here: the previous `Dyno` is left untouched
  and the new slug is not started);
- otherwise the new web dyno starts, and once it serves the old one gets SIGTERM (Heroku's
  preboot-less restart stops the old dynos first; starting the new one before stopping the old
  one only changes which dyno answers during the switch, which tests do not rely on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.harness.heroku import Dyno, Heroku, Result, Slug


@dataclass
class Deploy:
    slug: Slug
    release: Result | None  # None when the slug has no release process type
    web: Dyno | None  # the new web dyno, None when the build or the release failed

    @property
    def built(self) -> bool:
        return self.slug.compile.ok

    @property
    def released(self) -> bool:
        return self.built and (self.release is None or self.release.ok)


@dataclass
class HerokuApp:
    heroku: Heroku
    config: dict[str, str]
    cache: str = ""
    web: Dyno | None = None
    deploys: list[Deploy] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache = self.cache or self.heroku.new_cache()

    def deploy(self, app_source: str, config: dict[str, str] | None = None) -> Deploy:
        """git push heroku: build, run the release phase, then switch the web formation."""
        if config is not None:
            self.config = config
        slug = self.heroku.build(app_source, self.config, cache_dir=self.cache)
        if not slug.compile.ok:
            deploy = Deploy(slug, None, None)
        else:
            release = None
            command = slug.process_command("release")
            if command:
                release = self.heroku.run_one_off(slug, command, self.config, dyno=f"release.{len(self.deploys) + 1}")
            deploy = Deploy(slug, release, None)
            if deploy.released:
                deploy.web = self.heroku.start(slug, "web", self.config)
                deploy.web.wait_until_serving()
                previous, self.web = self.web, deploy.web
                if previous is not None:
                    previous.terminate()
        self.deploys.append(deploy)
        return deploy

    def run(self, command: str) -> Result:
        """heroku run COMMAND, against the current release."""
        current = next(d for d in reversed(self.deploys) if d.released)
        return self.heroku.run_one_off(current.slug, command, self.config)

    def stop(self) -> None:
        if self.web is not None:
            self.web.terminate()
            self.web = None
