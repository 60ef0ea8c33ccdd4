"""The `modal_processor` role (a support step): prepares each sample's images, audio and PDF pages before
inference, in worker threads, so that reading and resizing thousands of images never blocks the event loop
that sends requests.

    role_adapters:
      - adapter_id: media
        role_type: modal_processor
        params: {max_side: 1024, max_pixels: 1048576}      # see datasets/media_prepare.py MediaSettings
    custom:
      steps: [{step: support, adapter_id: media}, {step: inference, adapter_id: dut}, {step: auto_eval}]

Prepared parts reference files (the original, or the run's ``media/`` store) with their sha256, so
samples.jsonl holds references and hashes, and the response cache keys on the image content.
A sample whose media cannot be used fails alone, with the reason (missing media, corrupt image,
unsupported media format, image over pixel budget, ...).
"""
from __future__ import annotations

import asyncio
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gage_eval.config.loading import validation_to_config_error
from gage_eval.config.models import RoleAdapterSpec
from gage_eval.datasets.media import MediaStore
from gage_eval.datasets.media_image import INSTALL_FIX
from gage_eval.datasets.media_prepare import MediaSettings, Preparer
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources
from gage_eval.sample import Sample, iter_media_parts

_SUMMARY_KEYS = ("sha256", "width", "height", "original_width", "original_height", "bytes", "seconds", "page",
                 "tile", "remote")


@registry.asset("roles", "modal_processor", desc="support step: read, check, resize, tile and store a sample's "
                "images / audio / PDF pages off the event loop (params: max_side, max_pixels, ...)",
                tags=("support", "multimodal"))
class ModalProcessorAdapter(RoleAdapter):
    role_type = "modal_processor"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        try:
            self.settings = MediaSettings.model_validate(spec.params)
        except ValidationError as exc:
            err = validation_to_config_error(exc, None, MediaSettings)
            err.path = f"{config_path}.params" + (f".{err.path}" if err.path else "")
            raise err from None
        if importlib.util.find_spec("PIL") is None:
            raise ConfigError("the modal_processor needs Pillow, which is not installed", path=config_path,
                              fix=INSTALL_FIX)
        run_dir = Path(resources.run_dir) if resources.run_dir is not None else Path.cwd()
        self.preparer = Preparer(self.settings, MediaStore(run_dir / "media"))
        self._pool: ThreadPoolExecutor | None = None

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        if next(iter_media_parts(sample.messages), None) is None:
            return {"media": []}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.workers, thread_name_prefix="gage-media")
        prepared = await asyncio.get_running_loop().run_in_executor(self._pool, self.preparer.prepare_sample, sample)
        return {"media": [{k: m[k] for k in _SUMMARY_KEYS if k in m} for m in prepared]}

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
