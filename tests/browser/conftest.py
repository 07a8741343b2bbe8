"""Fixtures for the browser tests: headless Chromium (Debian's `chromium` and `chromium-driver`,
which `make test` installs) driven by Selenium, a served sandbox, and screenshots of every
dashboard page when a test fails (under test-artifacts/browser/, or $PISMO_SANDBOX_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

from tests.conftest import ServedSandbox

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ("tenants", "payments", "journal", "events", "faults")
DESKTOP = (1280, 900)
PHONE = (390, 844)


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def artifacts_dir(test_name: str) -> pathlib.Path:
    base = pathlib.Path(os.environ.get("PISMO_SANDBOX_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    folder = base / "browser" / test_name
    shutil.rmtree(folder, ignore_errors=True)  # only this run's pictures
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def chrome():
    """A factory of headless Chromium sessions (the caller quits them)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    browser, driver = _find("chromium", "chromium-browser"), _find("chromedriver")
    if not browser or not driver:
        pytest.skip("needs Debian's chromium and chromium-driver (make test installs them)")

    def _start(size=DESKTOP):
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-extensions",
            f"--window-size={max(size[0], 500)},{size[1]}",
        ):
            options.add_argument(argument)
        if size[0] < 500:  # below headless Chromium's smallest window: a phone's viewport instead
            options.add_experimental_option(
                "mobileEmulation", {"deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2}}
            )
        return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))

    return _start


class Browsers:
    """One Chromium per size for the whole test process (starting one costs more than most
    tests), each handed to a test blank: no page, no cookies, no cache (the dashboard keeps nothing
    in the browser's storage)."""

    def __init__(self, start):
        self.start = start
        self.running: dict[tuple[int, int], object] = {}

    def get(self, size):
        if size not in self.running:
            self.running[size] = self.start(size)
        driver = self.running[size]
        driver.get("about:blank")
        for command in ("Network.clearBrowserCookies", "Network.clearBrowserCache"):
            driver.execute_cdp_cmd(command, {})
        return driver

    def quit(self) -> None:
        for driver in self.running.values():
            driver.quit()


@pytest.fixture(scope="session")
def browsers(chrome):
    made = Browsers(chrome)
    yield made
    made.quit()


@pytest.fixture
def phone(browsers):
    """A phone-sized browser session, blank."""
    return browsers.get(PHONE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class Dashboard:
    """The dashboard of a served sandbox, seen through one browser session."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    def open(self, page: str) -> None:
        self.driver.get(f"{self.base_url}/_sandbox/ui/{page}")

    def wait(self, condition, timeout: float = 20, message: str = ""):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(condition, message)

    def screenshots(self, folder: pathlib.Path) -> None:
        """The page as it was, then every dashboard page, as PNG files in ``folder``."""
        self.driver.save_screenshot(str(folder / "at-failure.png"))
        for page in PAGES:
            try:
                self.open(page)
                self.driver.save_screenshot(str(folder / f"{page}.png"))
            except Exception:  # a page that cannot even load says as much by its absence
                continue


class LockedSandbox(ServedSandbox):
    """A served sandbox with an admin token (the launcher's health check and admin client
    present it)."""

    def __init__(self, db_path: str, admin_token: str, **kwargs):
        super().__init__(db_path, env={"PISMO_SANDBOX_ADMIN_TOKEN": admin_token}, **kwargs)


@pytest.fixture
def dashboard(request, browsers, tmp_path):
    """A served sandbox (gunicorn) and a desktop-sized browser on its dashboard; on failure,
    screenshots of every page. Without an admin token it is the test process's shared served
    sandbox, reset; with one (an indirect parameter) a sandbox of its own started with it."""
    admin_token = getattr(request, "param", None)
    if admin_token:
        server = LockedSandbox(str(tmp_path / "locked.db"), admin_token, workers=1).start()
        request.addfinalizer(server.stop)
    else:
        server = request.getfixturevalue("served_sandbox")
    view = Dashboard(browsers.get(DESKTOP), server.url)
    yield view
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        view.screenshots(artifacts_dir(request.node.name))
