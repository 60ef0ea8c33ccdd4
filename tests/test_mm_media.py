"""Media in samples: every source a record can carry, the modal_processor's preparation (resize, original size,
content-addressed store, tiles, PDF pages, audio), per-sample errors for bad media, references-only samples.jsonl
and response-cache keys on media hashes. Real files, real runs through the engine and the dummy backend."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import wave
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import gage_eval
from gage_eval.config.models import DatasetSpec
from gage_eval.datasets import iter_samples
from gage_eval.datasets.media import MediaStore
from gage_eval.datasets.media_image import fit
from gage_eval.datasets.media_prepare import MediaSettings, Preparer
from gage_eval.errors import ConfigError
from gage_eval.sample import Sample

from .conftest import read_jsonl, write_jsonl
from .mm_fixtures import png, write_parquet


def _image(path: Path, size: tuple[int, int] = (400, 300), fmt: str = "PNG", seed: int = 0) -> Path:
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size[0] * size[1])])
    image.save(path, format=fmt)
    return path


def _wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return path


def _user(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": "look"}, *parts]}]


def _img(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _spec(path: Path, **params: Any) -> DatasetSpec:
    return DatasetSpec(dataset_id="d", loader=params.pop("loader", "jsonl"), params={"path": str(path), **params})


def _pipeline(data: Path, media: dict[str, Any] | None = None, **dataset_params: Any) -> dict[str, Any]:
    return {"kind": "PipelineConfig", "metadata": {"name": "mm"},
            "datasets": [{"dataset_id": "d", "loader": dataset_params.pop("loader", "jsonl"),
                          "params": {"path": str(data), **dataset_params}}],
            "backends": [{"backend_id": "m", "type": "dummy", "config": {"mode": "cycle", "responses": ["ok"]}}],
            "role_adapters": [{"adapter_id": "media", "role_type": "modal_processor", "params": media or {}},
                              {"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m",
                               "capabilities": ["images"]}],
            "custom": {"steps": [{"step": "support", "adapter_id": "media"}, {"step": "inference", "adapter_id": "dut"},
                                 {"step": "auto_eval"}]},
            "metrics": ["exact_match"]}


def _media(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["media"] for m in record["sample"]["messages"] if isinstance(m["content"], list)
            for p in m["content"] if p.get("type") != "text"]


# ---- preprocessing: every source becomes an OpenAI part --------------------------------------------------------------
def test_every_media_source_becomes_an_image_url_or_audio_url_part(tmp_path: Path) -> None:
    data = tmp_path / "set"
    data.mkdir()
    _image(data / "rel.png")
    _wav(data / "a.wav")
    raw = png(3)
    records = [
        {"id": "relative", "messages": _user(_img("rel.png"))},  # next to the dataset file, run from elsewhere
        {"id": "file_url", "messages": _user(_img((data / "rel.png").as_uri()))},
        {"id": "short", "messages": _user({"type": "image_url", "image_url": str(data / "rel.png")})},
        {"id": "hf_style", "messages": _user({"type": "image", "image": str(data / "rel.png")})},
        {"id": "input_audio", "messages": _user({"type": "input_audio", "input_audio": {
            "data": base64.b64encode((data / "a.wav").read_bytes()).decode(), "format": "wav"}})},
        {"id": "mm_data_only", "prompt": "look", "inputs": {"multi_modal_data": {"image": ["rel.png"]}}},
        {"id": "data_url", "messages": _user(_img("data:image/png;base64," + base64.b64encode(raw).decode()))},
    ]
    samples = {s.id: s for s in iter_samples(_spec(write_jsonl(data / "d.jsonl", records)))}
    absolute = str((data / "rel.png").resolve())
    for key in ("relative", "short", "hf_style", "mm_data_only"):
        assert samples[key].inputs["multi_modal_data"] == {"image": [absolute]}, key
        assert samples[key].messages[0].content[-1] == _img(absolute), key
    assert samples["file_url"].inputs["multi_modal_data"]["image"] == [(data / "rel.png").as_uri()]
    audio = samples["input_audio"].messages[0].content[-1]
    assert audio["type"] == "audio_url" and audio["audio_url"]["url"].startswith("data:audio/wav;base64,")
    assert samples["data_url"].inputs["multi_modal_data"]["image"][0].startswith("data:image/png;base64,")


def test_hub_image_features_arrive_as_bytes_and_pil_images_with_decode_media(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "test-00000-of-00001.parquet",
                         [{"id": "h0", "question": "q", "image": {"bytes": png(1), "path": "x.png"}}])
    spec = DatasetSpec(dataset_id="d", loader="hf_hub", params={
        "path": str(path), "doc_to_visual": "attach_images_from_field", "doc_to_text": "format_prompt",
        "doc_to_text_kwargs": {"template": "{question}"}})
    sample = next(iter_samples(spec))
    url = sample.messages[0].content[-1]["image_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]) == png(1)  # the stored bytes, never decoded and re-encoded
    decoded = spec.model_copy(update={"params": {**spec.params, "decode_media": True}})
    url = next(iter_samples(decoded)).messages[0].content[-1]["image_url"]["url"]
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:  # a PIL image, as PNG
        assert image.size == (48, 32)


# ---- preparation -----------------------------------------------------------------------------------------------------
def test_fit_keeps_the_aspect_ratio_inside_both_limits() -> None:
    assert fit(4000, 3000, 1024, None) == (1024, 768)
    assert fit(4000, 3000, None, 1_000_000) == (1154, 866)
    w, h = fit(4000, 3000, 2000, 1_000_000)
    assert w * h <= 1_000_000 and max(w, h) <= 2000 and abs(w / h - 4 / 3) < 0.01
    assert fit(300, 200, 1024, 10**6) == (300, 200)  # never upscaled


def test_resize_keeps_the_original_size_and_stores_by_content(tmp_path: Path) -> None:
    big = _image(tmp_path / "big.png", (1200, 900))
    small = _image(tmp_path / "small.jpg", (200, 150), "JPEG", seed=1)
    copy = tmp_path / "copy.png"
    shutil.copy(big, copy)
    preparer = Preparer(MediaSettings(max_side=600), MediaStore(tmp_path / "run" / "media"))
    sample = Sample(id="s", messages=_user(_img(str(big)), _img(str(small)), _img(str(copy))))
    prepared = preparer.prepare_sample(sample)
    resized, unchanged, duplicate = prepared
    assert (resized["width"], resized["height"]) == (600, 450)
    assert (resized["original_width"], resized["original_height"]) == (1200, 900)
    stored = tmp_path / "run" / resized["file"]
    assert stored.is_file() and hashlib.sha256(stored.read_bytes()).hexdigest() == resized["sha256"]
    assert duplicate["file"] == resized["file"]  # same content, one stored file
    assert "file" not in unchanged and unchanged["sha256"] == hashlib.sha256(small.read_bytes()).hexdigest()
    assert sample.messages[0].content[2]["image_url"]["url"] == small.resolve().as_uri()  # referenced in place
    assert sample.inputs["multi_modal_data"]["image"][0] == stored.resolve().as_uri()
    assert len(list((tmp_path / "run" / "media").rglob("*.png"))) == 1


def test_convert_changes_only_images_of_another_mode(tmp_path: Path) -> None:
    rgba = tmp_path / "alpha.png"
    Image.new("RGBA", (30, 20), (10, 20, 30, 128)).save(rgba)
    rgb = _image(tmp_path / "rgb.png", (30, 20))
    preparer = Preparer(MediaSettings(convert="RGB"), MediaStore(tmp_path / "run" / "media"))
    sample = Sample(id="s", messages=_user(_img(str(rgba)), _img(str(rgb))))
    converted, untouched = preparer.prepare_sample(sample)
    with Image.open(tmp_path / "run" / converted["file"]) as image:
        assert image.mode == "RGB" and image.size == (30, 20)
    assert "file" not in untouched  # already RGB: sent as it is


def test_tiles_pdf_pages_and_audio(tmp_path: Path) -> None:
    pytest.importorskip("pypdfium2")
    image = _image(tmp_path / "wide.png", (500, 200))
    pages = [Image.new("RGB", (300, 400), c) for c in ("red", "green", "blue")]
    pages[0].save(tmp_path / "doc.pdf", save_all=True, append_images=pages[1:])
    audio = _wav(tmp_path / "a.wav", seconds=1.5)
    preparer = Preparer(MediaSettings(tile_size=256, pdf_dpi=72, pdf_max_pages=2),
                        MediaStore(tmp_path / "run" / "media"))
    sample = Sample(id="s", messages=_user(_img(str(image)), {"type": "file_url", "file_url": {"url": str(
        tmp_path / "doc.pdf")}}, {"type": "audio_url", "audio_url": {"url": str(audio)}}))
    preparer.prepare_sample(sample)
    parts = [p for p in sample.messages[0].content if p["type"] != "text"]
    kinds = [(p["type"], p["media"].get("tile"), p["media"].get("page")) for p in parts]
    assert kinds == [("image_url", None, None), ("image_url", [0, 0], None), ("image_url", [0, 1], None),
                     ("image_url", None, 1), ("image_url", None, 2), ("audio_url", None, None)]
    assert [(p["media"]["width"], p["media"]["height"]) for p in parts[:3]] == [(500, 200), (256, 200), (244, 200)]
    assert (parts[3]["media"]["width"], parts[3]["media"]["height"]) == (300, 400)  # 72 dpi: 1 px per point
    with Image.open(io.BytesIO(Path(parts[4]["image_url"]["url"].removeprefix("file://")).read_bytes())) as page:
        red, green, blue = page.getpixel((10, 10))
        assert green > 100 and red < 20 and blue < 20  # the second page is the green one
    assert parts[5]["media"]["seconds"] == 1.5 and parts[5]["media"]["format"] == "wav"
    assert sample.inputs["multi_modal_data"]["audio"] == [audio.resolve().as_uri()]


# ---- bad input: per-sample errors, nothing lost ----------------------------------------------------------------------
def test_bad_media_fails_its_sample_with_a_clear_reason_and_the_rest_run(tmp_path: Path) -> None:
    _image(tmp_path / "ok.png")
    (tmp_path / "corrupt.png").write_bytes(png(2)[:60])  # truncated: header intact, chunks cut
    (tmp_path / "random.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not an image at all")
    (tmp_path / "notes.png").write_text("plain text with an image name")
    _image(tmp_path / "huge.png", (800, 800), seed=2)
    _wav(tmp_path / "sound.wav")
    records = [
        {"id": "ok", "messages": _user(_img("ok.png")), "label": "ok"},
        {"id": "missing", "messages": _user(_img("nowhere.png")), "label": "ok"},
        {"id": "truncated", "messages": _user(_img("corrupt.png")), "label": "ok"},
        {"id": "garbage", "messages": _user(_img("random.png")), "label": "ok"},
        {"id": "text_file", "messages": _user(_img("notes.png")), "label": "ok"},
        {"id": "over_budget", "messages": _user(_img("huge.png")), "label": "ok"},
        {"id": "audio_as_image", "messages": _user(_img("sound.wav")), "label": "ok"},
    ]
    data = write_jsonl(tmp_path / "d.jsonl", records)
    result = gage_eval.run(_pipeline(data, {"max_pixels": 250_000, "oversize": "error"}), run_id="bad",
                           output_dir=str(tmp_path / "runs"))
    assert result.status == "completed_with_failures"
    rows = {r["sample_id"]: r for r in read_jsonl(result.run_dir / "samples.jsonl")}
    assert set(rows) == {r["id"] for r in records}  # nothing lost
    assert rows["ok"]["status"] == "ok" and rows["ok"]["metrics"]["exact_match"] == 1.0
    reasons = {k: (r["error"] or {}).get("reason") for k, r in rows.items()}
    assert reasons == {"ok": None, "missing": "missing media", "truncated": "corrupt image",
                       "garbage": "corrupt image", "text_file": "unsupported media format",
                       "over_budget": "image over pixel budget", "audio_as_image": "unsupported media format"}
    for key, row in rows.items():
        if key != "ok":
            assert row["error"]["step"] == "support" and row["error"]["fix"] and "traceback" not in row["error"]
    assert "nowhere.png" in rows["missing"]["error"]["message"]
    assert "800x800" in rows["over_budget"]["error"]["message"]
    classes = {c["reason"]: c["count"] for c in result.summary["failures"]["classes"]}
    assert classes["corrupt image"] == 2 and classes["unsupported media format"] == 2


def test_images_over_the_input_limit_are_refused_and_settings_are_validated(tmp_path: Path) -> None:
    _image(tmp_path / "big.png", (600, 600))
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "b", "messages": _user(_img("big.png"))}])
    result = gage_eval.run(_pipeline(data, {"max_input_pixels": 100_000}), run_id="r",
                           output_dir=str(tmp_path / "runs"))
    row = read_jsonl(result.run_dir / "samples.jsonl")[0]
    assert row["error"]["reason"] == "image over pixel budget" and "max_input_pixels" in row["error"]["message"]
    with pytest.raises(ConfigError) as err:
        gage_eval.run(_pipeline(data, {"max_side": -5}), run_id="r2", output_dir=str(tmp_path / "runs"))
    assert "role_adapters[0].params.max_side" in err.value.render()


# ---- samples.jsonl holds references; the cache keys on content -------------------------------------------------------
def test_samples_jsonl_holds_references_and_hashes_never_base64(tmp_path: Path) -> None:
    big = _image(tmp_path / "big.png", (700, 700))  # ~1.5 MB of PNG
    inline = "data:image/png;base64," + base64.b64encode(big.read_bytes()).decode()
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "messages": _user(_img(inline))} for i in range(3)])
    result = gage_eval.run(_pipeline(data), run_id="refs", output_dir=str(tmp_path / "runs"))
    lines = (result.run_dir / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 3 and max(len(line) for line in lines) < 4000
    media = _media(json.loads(lines[0]))[0]
    assert media["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest() and media["source"].startswith("data URL")
    assert (result.run_dir / media["file"]).read_bytes() == big.read_bytes()
    # Without a modal_processor the inline data is still never written: only its digest.
    plain = _pipeline(data)
    plain["custom"]["steps"] = plain["custom"]["steps"][1:]
    result = gage_eval.run(plain, run_id="plain", output_dir=str(tmp_path / "runs"))
    line = (result.run_dir / "samples.jsonl").read_text().splitlines()[0]
    assert len(line) < 4000 and ";sha256=" in line and "base64" not in line


def test_response_cache_keys_on_the_image_content_not_its_path(tmp_path: Path) -> None:
    first, other = _image(tmp_path / "a.png", seed=1), _image(tmp_path / "b.png", seed=2)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(first, moved / "a.png")
    cache = tmp_path / "cache.sqlite"

    def run(run_id: str, url: str) -> dict[str, Any]:
        data = write_jsonl(tmp_path / f"{run_id}.jsonl", [{"id": "s", "messages": _user(_img(url))}])
        return gage_eval.run(_pipeline(data), run_id=run_id, output_dir=str(tmp_path / "runs"), use_cache=True,
                             cache_path=cache).summary["runtime_health"]["response_cache"]

    assert run("one", str(first)) == {"hits": 0, "misses": 1}
    assert run("same_content_elsewhere", str(moved / "a.png")) == {"hits": 1, "misses": 0}
    assert run("other_content", str(other)) == {"hits": 0, "misses": 1}
