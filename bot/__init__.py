"""WanBot's platform-neutral core: requests, parameters, jobs, media, archive."""
