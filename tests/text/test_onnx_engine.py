"""The onnx engine on a tiny model the test builds (ONNX graph + tokenizer), with the network blocked."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from cxm.config import Settings
from cxm.core import jobs
from cxm.core.errors import InvalidInput
from cxm.hub import Hub
from cxm.text import analysis, onnx_engine, service
from cxm.text.evaluation import figures
from cxm.worker import worker_sessions
from tests.text.test_signals import kinds, store_comments
from tests.text.test_training import rate

WORDS = ["[PAD]", "[UNK]", "good", "great", "wonderful", "helpful", "bad", "awful", "terrible", "never"]
# Each known word's vector over (negative, neutral, positive).
VECTORS = {"good": 2, "great": 2, "wonderful": 2, "helpful": 2, "bad": 0, "awful": 0, "terrible": 0, "never": 0}


def build_model(directory: Path, *, kind: str = "classifier") -> Path:
    """A word-level tokenizer and a graph that sums each token's class vector (or returns the token vectors)."""
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    table = np.zeros((len(WORDS), 3), dtype=np.float32)
    for word, column in VECTORS.items():
        table[WORDS.index(word), column] = 3.0
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["logits"], keepdims=0),
    ]
    output = "masked" if kind == "embedding" else "logits"
    shape = ["n", "length", 3] if kind == "embedding" else ["n", 3]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["n", "length"]) for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, shape)],
        initializer=[
            helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten().tolist()),
            helper.make_tensor("axis1", TensorProto.INT64, [1], [1]),
            helper.make_tensor("axis2", TensorProto.INT64, [1], [2]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / "model.onnx"))
    (directory / "cxm.json").write_text(json.dumps({"kind": kind, "max_length": 64}))
    return directory


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attempt to open a connection fails, as on an air-gapped machine."""

    def refuse(*_: object, **__: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    onnx_engine.onnx_sentiment.cache_clear()


def test_a_classifier_scores_sentiment_offline(tmp_path: Path, no_network: None, session: Session) -> None:
    directory = build_model(tmp_path / "classifier")
    scores = onnx_engine.load(directory).scores(["Good and great service", "Awful, terrible, never again", "ok"])
    assert scores[0] > 0.9 and scores[1] < -0.9 and abs(scores[2]) < 1e-6
    engine = service.engine_for(session, languages=["en", "cs"], kind="onnx", model_dir=str(directory))
    first, second = engine.analyze(["The staff were wonderful and helpful.", "Terrible service, never again."])
    assert (first.language, first.sentiment.label) == ("en", "positive") and first.keyphrases
    assert second.sentiment.label == "negative"


def test_an_embedding_model_gets_a_head_trained_on_the_seed_set(tmp_path: Path, no_network: None) -> None:
    model = onnx_engine.load(build_model(tmp_path / "embedding", kind="embedding"))
    assert model.head is not None and model.model.run(["good good"]).shape == (1, 3)
    scores = model.scores(["Wonderful, helpful staff.", "Awful and terrible."])
    assert scores.shape == (2,) and np.all(np.abs(scores) <= 1) and scores[0] > scores[1]


def test_background_analysis_uses_the_configured_onnx_engine(tmp_path: Path, db: Engine, no_network: None) -> None:
    settings = Settings(text_engine="onnx", text_model_dir=str(build_model(tmp_path / "m")))
    factory = worker_sessions(db, settings)
    with factory.begin() as session:
        ids = store_comments(session)
    assert jobs.run_due(factory) == 1
    with factory.begin() as session:
        assert kinds(session, "response", ids[1]) == {"language": "en", "sentiment": "negative"}
        version = analysis.engine_version(session, kind="onnx", model_dir=settings.text_model_dir)
        assert service.signals_of(session, source="response", source_id=ids[1])[0].model == version
    assert version.startswith("onnx:m:") and version.endswith(":0")


def test_the_onnx_engine_version_follows_its_files(tmp_path: Path, session: Session) -> None:
    directory = build_model(tmp_path / "m", kind="embedding")
    first = analysis.engine_version(session, kind="onnx", model_dir=str(directory))
    assert analysis.engine_version(session, kind="onnx", model_dir=str(directory)) == first
    config = directory / "cxm.json"
    config.write_text(config.read_text() + " ")  # the same settings, another file: analysed again, to be safe
    assert analysis.engine_version(session, kind="onnx", model_dir=str(directory)) != first


def test_missing_model_files_and_gpu_preference(
    tmp_path: Path, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidInput, match=r"model\.onnx"):
        service.engine_for(session, kind="onnx", model_dir=str(tmp_path))
    with pytest.raises(InvalidInput, match="CXM_TEXT_MODEL_DIR"):
        service.engine_for(session, kind="onnx")
    assert onnx_engine.providers()[-1] == "CPUExecutionProvider"
    import onnxruntime

    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert onnx_engine.providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_training_is_compared_with_the_configured_engine(
    tmp_path: Path, db: Engine, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = build_model(tmp_path / "reversed")
    # Classes read in reverse: this model takes every kind word for a complaint, where the shipped head is right.
    (directory / "cxm.json").write_text(json.dumps({"labels": ["positive", "neutral", "negative"], "max_length": 64}))
    factory = worker_sessions(db, Settings(text_engine="onnx", text_model_dir=str(directory)))
    comments = [(10, f"Good and helpful staff, visit {i}.") if i % 2 else (2, f"Awful, terrible wait, visit {i}.")
                for i in range(60)]  # fmt: skip
    with factory.begin() as session:
        rate(session, comments)
    jobs.run_due(factory)  # analysis, then the training run it queues
    with factory.begin() as session:
        [queued] = service.list_models(session)
        onnx_engine_in_use = service.engine_for(session, kind="onnx", model_dir=str(directory))
        newest = [text for _, text in comments[-queued.test_size :]]
        labels = ["positive" if score == 10 else "negative" for score, _ in comments[-queued.test_size :]]
        expected = figures(labels, onnx_engine_in_use.scores(newest))
        assert (queued.baseline_accuracy, queued.baseline_macro_f1) == (expected.accuracy, expected.macro_f1) == (0, 0)
        direct = service.train(session, kind="onnx", model_dir=str(directory))
        offline = service.train(session)
    assert direct.baseline_macro_f1 == 0.0 and offline.baseline_macro_f1 > 0.9
    monkeypatch.setenv("CXM_TEXT_ENGINE", "onnx")
    monkeypatch.setenv("CXM_TEXT_MODEL_DIR", str(directory))
    hub = Hub(db.url.render_as_string(hide_password=False))  # what `cxm text train` runs
    try:
        assert hub.text.train().baseline_macro_f1 < offline.baseline_macro_f1
    finally:
        hub.close()
