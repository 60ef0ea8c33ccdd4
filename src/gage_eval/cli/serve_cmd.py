"""`gage serve MODEL_DIR`: serve a local checkpoint over an OpenAI-compatible API (the `gage` launch preset)."""
from __future__ import annotations

import errno
from typing import Optional

import typer

from gage_eval.errors import GageError


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model: str = typer.Argument(..., help="local checkpoint folder (or hub id) for the hf backend"),
        port: int = typer.Option(8000, "--port", help="TCP port"),
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
        served_model_name: Optional[str] = typer.Option(None, "--served-model-name",
                                                        help="the `model` clients send [default: MODEL as given]"),
        batch_size: int = typer.Option(8, "--batch-size", help="requests batched per forward pass at most"),
        max_model_len: Optional[int] = typer.Option(None, "--max-model-len", help="context length [default: the "
                                                    "model config's]"),
        device: str = typer.Option("auto", "--device", help="auto | cpu | cuda[:N] | mps"),
        dtype: str = typer.Option("auto", "--dtype", help="auto | float32 | bfloat16 | float16"),
    ) -> None:
        """Serve a checkpoint with /v1/chat/completions, /v1/completions (echo + logprobs), /health, /v1/models."""
        from gage_eval.backends.hf import HFBackend
        from gage_eval.engine import event_loop
        from gage_eval.serving.openai_server import serve as serve_forever

        backend = HFBackend.from_config({"model_path": model, "batch_size": batch_size, "max_length": max_model_len,
                                         "device": device, "dtype": dtype}, "serve")
        name = served_model_name or model
        typer.echo(f"gage serve: loading {model}; then serving it as '{name}' on http://{host}:{port}/v1", err=True)
        try:
            event_loop.run(serve_forever(backend, name, host, port))
        except KeyboardInterrupt:
            pass
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise GageError(f"port {port} on {host} is already in use", path="--port",
                                fix="choose another --port, or stop what listens there") from None
            raise
        typer.echo("gage serve: stopped", err=True)
