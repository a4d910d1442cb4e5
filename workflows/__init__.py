"""API-format ComfyUI workflow templates per mode, the builder that binds a request to them,
and a validator that checks a prompt against a host's `/object_info`.

`params` (modes and generation parameters) and `hardware` (hardware presets, model names) are
the values the templates bind. Nothing here imports `bot/`: the core depends on workflows, not
the other way round.
"""
