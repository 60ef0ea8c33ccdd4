"""A model server for the sweep tests, started by `gage sweep --serve '... {model_path} {port} LATENCY'`: the
bundled OpenAI-compatible test server answering deterministically from the checkpoint's name (so checkpoints
score differently), or, for a checkpoint named *broken*, a server that fails to load as a real one would."""
from __future__ import annotations

import asyncio
import sys
import zlib
from pathlib import Path

from gage_eval.testing.server import OpenAITestServer, TestServerConfig


def main() -> None:
    model_path, port, latency = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    if "broken" in model_path.name:
        print(f"loading {model_path}\nerror: cannot load weights from {model_path}/model.safetensors", flush=True)
        sys.exit(3)
    salt = model_path.name

    def answer(body: dict) -> str:
        prompt = str(body.get("messages") or body.get("prompt"))
        words = ["river", "stone", "Blue", "cloud", "tree", "fish"]
        h = zlib.crc32((salt + prompt).encode())
        return " ".join(words[(h >> i) % len(words)] for i in range(1 + h % 7))

    async def serve() -> None:
        server = OpenAITestServer(TestServerConfig(port=port, script=answer, latency_ms=latency))
        print("READY", await server.start(), flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
