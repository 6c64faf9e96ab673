"""How well fitted themes recover the demo's comment topics: coverage and purity against the generator's own topics.

Fits themes over a demo database's stored texts without writing anything (`themes.plan_themes`), then compares the
themes each survey comment got with the topics the demo's generator wrote it from (found again by matching its
sentence templates).

    CXM_DATABASE_URL=sqlite:////tmp/t.db PYTHONPATH=src .venv/bin/python -u benchmarks/text_themes.py
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter, defaultdict

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.demo import comments as demo_comments
from cxm.text import themes


def template_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Each demo sentence template as a pattern (any product, any city), with its topic."""
    found = []
    for sentences in demo_comments.SENTENCES.values():
        for (topic, _), templates in sentences.items():
            for template in templates:
                body = re.escape(template.rstrip(".!")).replace(r"\{product\}", ".+?").replace(r"\{city\}", ".+?")
                found.append((re.compile(body, re.IGNORECASE), topic))
    return found


def demo_topics(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> set[str]:
    """The generator topics whose sentences the text holds."""
    return {topic for pattern, topic in patterns if pattern.search(text)}


def measure(fitted: themes.FittedThemes) -> None:
    """Print coverage and purity of the themes over the comments the generator wrote."""
    patterns = template_patterns()
    names = fitted.topics.names()
    members: dict[int, list[set[str]]] = defaultdict(list)
    comments = covered = 0
    for text, found in zip(fitted.texts, fitted.found, strict=True):
        truth = demo_topics(text.text, patterns)
        if text.source != "response" or not truth:
            continue
        comments += 1
        covered += bool(found)
        for index, _ in found:
            members[index].append(truth)
    print(f"comments with a generator topic: {comments}; with a theme: {covered} ({covered / max(comments, 1):.1%})")
    matched = 0
    total = 0
    recovered: dict[str, int] = Counter()
    for index, truths in sorted(members.items(), key=lambda item: -len(item[1])):
        topic, hits = Counter(t for truth in truths for t in truth).most_common(1)[0]
        matched += hits
        total += len(truths)
        recovered[topic] += 1
        print(
            f"  {names[index][:50]:50} comments {len(truths):5}  main topic {topic:9} purity {hits / len(truths):.2f}"
        )
    interaction_share = sum(1 for t, f in zip(fitted.texts, fitted.found, strict=True) if f and t.source != "response")
    print(f"purity (comments in their theme's main topic): {matched / max(total, 1):.3f}")
    print(f"generator topics that are some theme's main topic: {len(recovered)} of {len(demo_comments.THEMES)}")
    print(f"themes: {len(names)}; interaction texts with a theme: {interaction_share}")


def main() -> None:
    """Fit over the database in CXM_DATABASE_URL and print the figures."""
    engine = create_engine(os.environ["CXM_DATABASE_URL"])
    started = time.perf_counter()
    with Session(engine) as session:
        fitted = themes.plan_themes(session, languages=Settings().text_languages)
    print(f"fitted in {time.perf_counter() - started:.1f} s; load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    measure(fitted)


if __name__ == "__main__":
    main()
