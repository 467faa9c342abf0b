"""The documentation in the repository holds together: the README front page
fits on two screens and keeps the two commands, every relative link of the
Markdown pages reaches an existing file and heading, and nothing points at the
design's old home outside the repository (docs/design.md replaced it)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
         "docker/README.md", "bench/README.md", "python/README.md", "notebooks/README.md",
         "src/nuisance/README.md"]


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # '#' lines in code are not headings
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, flags=re.M)}


def test_readme_front_page_is_short_and_keeps_the_two_commands():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 100
    assert "scripts/demo" in readme and "scripts/test" in readme
    assert "scripts/test" in (REPO / ".ci" / "run").read_text()


def test_every_relative_link_reaches_a_file_and_heading():
    broken = []
    for page in PAGES:
        path = REPO / page
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{page}: {target} (no such file)")
            elif anchor and anchor not in _anchors(dest):
                broken.append(f"{page}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_nothing_points_outside_the_repository_for_the_design():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode != 0:  # not a git checkout (e.g. an sdist): nothing to check
        return
    offenders = []
    for name in tracked.stdout.splitlines():
        path = REPO / name
        if name == "tests/python/test_docs.py" or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        # The starting design notes lived in a folder beside the checkout
        # (a "shared/" folder one level up); users have neither.
        for pattern in (r"(?<!docs/)\bDESIGN\.md", r"\.\./shared/", r"\bshared/(?:STYLE|GPU)\.md"):
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{name}:{line}: {m.group(0)}")
    assert not offenders, "cite docs/design.md instead:\n" + "\n".join(offenders)
