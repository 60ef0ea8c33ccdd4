"""Small fixtures of the multimodal benchmarks in their hub datasets' real schemas (images as `datasets` Image
features, written to parquet in the hub snapshots' layouts), for the template, layout and end-to-end tests."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

MULTIMODAL = ("chartqa", "docvqa", "mathvista", "mathvista_judge", "mmmu")


def png(seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    """A small distinct PNG (a colour gradient plus a seed-dependent block)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle([seed % size[0] // 2, 2, seed % size[0] // 2 + 8, 12], fill=(255, 255 - seed % 200, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_value(seed: int) -> dict[str, Any]:
    return {"bytes": png(seed), "path": f"img_{seed}.png"}


def mmmu_records(subject: str = "Accounting", n: int = 2) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, n + 1):
        mc = i % 2 == 1
        rows.append({
            "id": f"validation_{subject}_{i}", "question": f"<image 1> What is shown in case {i}?" +
            (" Compare with <image 2>." if i == 1 else ""),
            "options": "['a cat', 'a dog', 'a bird', '<image 2>']" if mc else "[]",
            "explanation": "", "image_1": image_value(i), "image_2": image_value(100 + i) if mc else None,
            **{f"image_{k}": None for k in range(3, 8)},
            "img_type": "['Photos']", "answer": "B" if mc else "42", "topic_difficulty": "Easy",
            "question_type": "multiple-choice" if mc else "open", "subfield": "Financial Accounting"})
    return rows


def docvqa_records(n: int = 2) -> list[dict[str, Any]]:
    return [{"questionId": f"{1000 + i}", "question": f"What is the date on page {i}?", "question_types": ["form"],
             "image": image_value(200 + i), "docId": 7 + i, "ucsf_document_id": f"doc{i}",
             "ucsf_document_page_no": "1", "answers": ["1/8/93", "january 8, 1993"], "data_split": "val"}
            for i in range(n)]


def chartqa_records(n: int = 2) -> list[dict[str, Any]]:
    return [{"type": "human_test" if i % 2 == 0 else "augmented_test", "question": f"What is the value of bar {i}?",
             "answer": str(10 + i), "image": image_value(300 + i)} for i in range(n)]


def mathvista_records(n: int = 2) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        mc = i % 2 == 0
        rows.append({
            "pid": str(i + 1), "question": f"What is the size of angle {i}?", "image": f"images/{i + 1}.jpg",
            "decoded_image": image_value(400 + i), "choices": ["30", "45", "60", "90"] if mc else None,
            "unit": None, "precision": None if mc else 1.0, "answer": "45" if mc else "2.5",
            "question_type": "multi_choice" if mc else "free_form", "answer_type": "text" if mc else "float",
            "metadata": {"category": "math-targeted-vqa", "context": "geometry diagram", "grade": "high school",
                         "img_height": 32, "img_width": 48, "language": "english", "skills": ["geometry reasoning",
                                                                                              "algebraic reasoning"],
                         "source": "Geometry3K", "split": "testmini", "task": "geometry problem solving"},
            "query": f"Hint: ...\nQuestion: What is the size of angle {i}?"})
    return rows


RECORDS = {"mmmu": mmmu_records, "docvqa": docvqa_records, "chartqa": chartqa_records,
           "mathvista": mathvista_records, "mathvista_judge": mathvista_records}


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as the hub stores them: image fields as the Image feature."""
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = datasets.Dataset.from_list(rows)
    for name in list(dataset.features):
        if name.startswith("image") or name == "decoded_image":
            if isinstance(rows[0].get(name), dict) or any(isinstance(r.get(name), dict) for r in rows):
                dataset = dataset.cast_column(name, datasets.Image())
    dataset.to_parquet(str(path))
    return path


# Where each hub snapshot keeps the evaluated split (the READMEs' "Local copy" sections name these files).
LAYOUT_FILES = {
    "mmmu": "DIR/<subject>/validation-00000-of-00001.parquet",
    "docvqa": "DIR/DocVQA/validation-00000-of-00006.parquet",
    "chartqa": "DIR/data/test-00000-of-00001.parquet",
    "mathvista": "DIR/data/testmini-00000-of-00001-725687bf7a18d64b.parquet",
    "mathvista_judge": "DIR/data/testmini-00000-of-00001-725687bf7a18d64b.parquet",
}


def write_snapshot(root: Path, name: str, n: int = 2, subject: str = "Accounting") -> Path:
    """A hub-snapshot folder of benchmark `name` holding `n` fixture records; returns the folder."""
    rows = mmmu_records(subject, n) if name == "mmmu" else RECORDS[name](n)
    write_parquet(root / LAYOUT_FILES[name].removeprefix("DIR/").replace("<subject>", subject), rows)
    return root
