"""API-format ComfyUI workflow templates per mode, the builder that binds a request to them,
and a validator that checks a prompt against a host's `/object_info`."""
