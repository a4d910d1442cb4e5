"""Reading a request's form fields and uploaded files into memory, for the fake servers.

aiohttp's `request.post()` spools each uploaded file into a `SpooledTemporaryFile` that only
its response path closes: when the client goes away mid-upload (a cancelled job, a stopped bot)
or the server shuts down during the handler, the file is left open inside a reference cycle.
The garbage collector then warns about it in whichever later test it happens to run, and this
suite turns that warning into a failure. Reading the parts ourselves keeps no file at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web


@dataclass
class Upload:
    """One uploaded file: the name the client gave it and its bytes."""

    filename: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)


async def read_form(request: web.Request) -> Form:
    """The request's form (multipart or URL-encoded); files as bytes, nothing left open."""
    form = Form()
    if not request.can_read_body:
        return form
    if request.content_type != "multipart/form-data":
        # URL-encoded forms carry no files, so `post()` opens nothing here.
        for key, value in (await request.post()).items():
            form.fields[key] = str(value)
        return form
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = bytes(await part.read(decode=True))
        if part.filename:
            form.files[part.name] = Upload(part.filename, data)
        else:
            form.fields[part.name] = data.decode(part.get_charset(default="utf-8"))
    return form
