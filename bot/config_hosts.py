"""The `[comfy]` section: the ComfyUI hosts, each with its hardware preset and model names.

Split from `bot.config` (which re-exports these models) to keep each module readable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.hardware import PRESETS, Hardware, HardwarePreset, Models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelOverrides(_Strict):
    """Per-host model names; unset keys fall back to `[models]`."""

    i2v: str | None = None
    infinitetalk: str | None = None
    animate: str | None = None
    t5: str | None = None
    vae: str | None = None
    clip_vision: str | None = None
    wav2vec: str | None = None
    i2v_fast_high: str | None = None
    i2v_fast_low: str | None = None
    fast_lora_high: str | None = None
    fast_lora_low: str | None = None
    fast_lora_high_strength: float | None = None
    fast_lora_low_strength: float | None = None
    svi_lora_high: str | None = None
    svi_lora_low: str | None = None
    native_i2v_high: str | None = None
    native_i2v_low: str | None = None
    native_text_encoder: str | None = None
    native_vae: str | None = None
    native_lora_high: str | None = None
    native_lora_low: str | None = None
    native_lora_high_strength: float | None = None
    native_lora_low_strength: float | None = None
    animate2: str | None = None
    animate2_lora: str | None = None
    animate2_lora_strength: float | None = None
    animate2_clip_vision: str | None = None
    animate2_vae: str | None = None
    native_talk_model: str | None = None
    native_talk_patch: str | None = None
    native_audio_encoder: str | None = None
    native_animate: str | None = None
    native_clip_vision: str | None = None


class HostConfig(_Strict):
    """One ComfyUI host."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str = Field(pattern=r"^https?://")
    token: str | None = None
    max_concurrent: int = Field(default=1, ge=1, le=64)
    preset: HardwarePreset = HardwarePreset.RTX4090
    hardware: dict[str, Any] = Field(default_factory=dict)
    models: ModelOverrides = Field(default_factory=ModelOverrides)
    # Previews while sampling (ComfyUI's `preview_method`): "latent2rgb" needs nothing more,
    # "taesd" the TAE files (taew2_1.safetensors) in the host's models/vae_approx.
    preview: Literal["latent2rgb", "taesd", "none"] = "latent2rgb"
    # Which graphs the host gets: "auto" reads its schema (the wrapper's nodes where it has
    # them, else ComfyUI's own: no long videos); "wrapper" or "native" to choose.
    backend: Literal["auto", "wrapper", "native"] = "auto"

    def resolved_hardware(self) -> Hardware:
        """The preset's values with this host's `hardware` table on top."""
        base = PRESETS.get(self.preset, Hardware())
        return Hardware.model_validate({**base.model_dump(), **self.hardware})

    def resolved_models(self, defaults: Models) -> Models:
        """`[models]` with this host's overrides applied."""
        own = self.models.model_dump(exclude_none=True)
        return defaults.model_copy(update=own)


class ComfySection(_Strict):
    hosts: list[HostConfig] = Field(min_length=1)
    request_timeout: float = Field(default=30.0, gt=0)
    upload_timeout: float = Field(default=300.0, gt=0)
    # How long to keep fetching a finished prompt's video before failing the job.
    fetch_retry_seconds: float = Field(default=600.0, ge=0)
    schema_cache_seconds: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _unique_names(self) -> ComfySection:
        names = [h.name for h in self.hosts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"host names must be unique; repeated: {', '.join(dupes)}")
        return self
