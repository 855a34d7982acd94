"""Copies CadQuery's own example programs into the differential corpus: examples/*.py and every
`.. cadquery::` snippet of doc/*.rst, from a checkout of github.com/CadQuery/cadquery (Apache-2.0).

usage: python3 extract_cadquery_corpus.py CADQUERY_CHECKOUT COMMIT OUT_DIR

Writes OUT_DIR/cq-examples/*.py (verbatim) and OUT_DIR/cq-docs/<page>-<n>.py (the snippet,
dedented; the directive's options dropped). A snippet runs as the docs run it, through CQGI,
where `cq` and `cadquery` are predefined.
"""

import pathlib
import re
import sys
import textwrap


def snippets(rst):
    lines = rst.splitlines()
    i = 0
    while i < len(lines):
        if re.match(r"^\.\. cadquery::\s*$", lines[i]):
            i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                body.append(lines[i])
                i += 1
            text = textwrap.dedent("\n".join(body))
            code = [ln for ln in text.splitlines() if not re.match(r"^:[\w-]+:", ln)]
            yield "\n".join(code).strip() + "\n"
        else:
            i += 1


def main():
    src, commit, out = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
    header = "# From github.com/CadQuery/cadquery@{commit} {path} (Apache-2.0)\n"
    (out / "cq-examples").mkdir(parents=True, exist_ok=True)
    (out / "cq-docs").mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "examples").glob("*.py")):
        text = f.read_text()
        (out / "cq-examples" / f.name).write_text(header.format(commit=commit, path=f"examples/{f.name}") + text)
    for page in sorted((src / "doc").glob("*.rst")):
        for n, code in enumerate(snippets(page.read_text()), 1):
            name = f"{page.stem}-{n:02d}.py"
            (out / "cq-docs" / name).write_text(header.format(commit=commit, path=f"doc/{page.name} snippet {n}") + code)


if __name__ == "__main__":
    main()
