#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The runbook of docs/deploy.md, for tests/live/multihost.sh.

The command blocks the page marks with `<!-- runbook: HOST -->` (HOST is
head, node or login) are what an operator types. This prints one of them as a
bash script for one test "host", with only the substitutions the page lists
under "How this page is tested" (the head's address, the user, the host's
paths under ROOT/HOST), or counts the commands up to the first remote job.

  runbook.py DOC count
  runbook.py DOC block KIND HOST ROOT HEAD_IP USER
  runbook.py DOC line KIND HOST ROOT HEAD_IP USER WORD   (the command starting with WORD)
"""
import re
import sys

DOC_IP = "10.0.0.1"
DOC_USER = "alice"
# The per-host paths of the page, rewritten where they start a word (after a
# space, '=', a quote or the line start), not after 'host:' (scp's remote side).
PATHS = re.compile(r'(?<![^\s="\'])(/etc/aidc|/var/lib/aidc|/var/log|/run)(?=[/\s"\']|$)',
                   re.M)


def blocks(doc):
    """[(kind, [lines])] of the marked blocks, in page order."""
    out, kind, body, lines = [], None, None, open(doc, encoding="utf-8").read().splitlines()
    for ln in lines:
        m = re.match(r"<!-- runbook: (head|node|login) -->\s*$", ln)
        if m:
            kind = m.group(1)
            continue
        if kind and body is None:
            if ln.startswith("```"):
                body = []
                continue
            sys.exit(f"{doc}: 'runbook: {kind}' is not followed by a code block")
        if body is not None:
            if ln.startswith("```"):
                out.append((kind, body))
                kind, body = None, None
            else:
                body.append(ln)
    if body is not None:
        sys.exit(f"{doc}: an unterminated runbook block")
    return out


def commands(body):
    """The block's commands: a line continued with '\\' and a here-document
    belong to the command they start. [(first line, full text)]."""
    cmds, cur, heredoc = [], None, None
    for ln in body:
        if heredoc is not None:
            cur[1].append(ln)
            if ln.strip() == heredoc:
                heredoc = None
            continue
        if cur is not None and cur[1][-1].endswith("\\"):
            cur[1].append(ln)
        elif ln.strip() and not ln.lstrip().startswith("#"):
            cur = (ln, [ln])
            cmds.append(cur)
        else:
            continue
        m = re.search(r"<<-?\s*'?\"?(\w+)", ln)
        if m:
            heredoc = m.group(1)
    return [(first, "\n".join(text)) for first, text in cmds]


def substitute(text, host, root, ip, user):
    text = text.replace(DOC_IP, ip)
    text = re.sub(rf"\b{DOC_USER}\b", user, text)
    return PATHS.sub(lambda m: f"{root}/{host}{m.group(1)}", text)


def main():
    doc, mode = sys.argv[1], sys.argv[2]
    bl = blocks(doc)
    kinds = [k for k, _ in bl]
    if kinds != ["head", "node", "login"]:
        sys.exit(f"{doc}: runbook blocks {kinds}, want head, node, login in that order")
    if mode == "count":
        n = 0
        for kind, body in bl:
            for first, _ in commands(body):
                n += 1
                if re.match(r"\s*aidc submit\b", first):
                    print(n)
                    return
        sys.exit(f"{doc}: no 'aidc submit' in the runbook")
    kind, host, root, ip, user = sys.argv[3:8]
    body = dict(bl)[kind]
    if mode == "block":
        print(substitute("\n".join(body), host, root, ip, user))
    elif mode == "line":
        word = sys.argv[8]
        hits = [t for f, t in commands(body) if f.startswith(word)]
        if len(hits) != 1:
            sys.exit(f"{doc}: {len(hits)} commands of the {kind} block start with '{word}'")
        print(substitute(hits[0], host, root, ip, user))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
