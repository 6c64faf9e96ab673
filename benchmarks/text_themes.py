"""How well fitted themes recover the demo's comment topics: coverage and purity against the generator's own topics.

Fits themes over a demo database's stored texts without writing anything (`themes.plan_themes`), then compares the
themes each survey comment got with the topics the demo's generator wrote it from (found again by matching its
sentence templates); the interaction texts the same way, against the template each was written from (purity only).

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
from cxm.demo import phrases as demo_phrases
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


def interaction_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Each demo interaction text template as a pattern, labelled by kind and what it asks (the same in every language:
    English lists its questions in another order)."""
    found = []
    for language, kinds in demo_phrases.TEXTS.items():
        for kind, templates in kinds.items():
            for index, template in enumerate(templates):
                if kind == "question" and language == "en":
                    index = (2, 0, 1)[index]  # compatible, stock, warranty -> stock, warranty, compatible
                body = re.escape(template)
                for slot in (r"\{product\}", r"\{city\}", r"\{order\}"):
                    body = body.replace(slot, ".+?")
                found.append((re.compile(body, re.IGNORECASE), f"{kind}{index}"))
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
    print(f"interaction purity (texts in their theme's main template): {interaction_purity(fitted):.3f}")
    print(f"generator topics that are some theme's main topic: {len(recovered)} of {len(demo_comments.THEMES)}")
    print(f"themes: {len(names)}; interaction texts with a theme: {interaction_share}")


def interaction_purity(fitted: themes.FittedThemes) -> float:
    """The share of interaction texts (counted once per theme they got) whose template is their theme's main one."""
    patterns = interaction_patterns()
    members: dict[int, Counter[str]] = defaultdict(Counter)
    for text, found in zip(fitted.texts, fitted.found, strict=True):
        truth = {label for pattern, label in patterns if pattern.search(text.text)}
        if text.source == "interaction" and len(truth) == 1:
            for index, _ in found:
                members[index].update(truth)
    matched = sum(counts.most_common(1)[0][1] for counts in members.values())
    return matched / max(sum(sum(counts.values()) for counts in members.values()), 1)


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
