"""The one file-set type: the same shape for the user's files, the prepared ones, the uploads."""

from __future__ import annotations

from pathlib import Path

from bot.request import JobRequest
from tests.factories import make_request
from workflows.files import FileSet


def test_map_keeps_the_shape_and_all_lists_image_first() -> None:
    sent = FileSet[Path](
        image=Path("a/cat.png"),
        audio=Path("a/hi.wav"),
        pose=[Path("a/p1.png"), Path("a/p2.png")],
        background=Path("a/bg.png"),
    )
    names = sent.map(lambda p: p.name)
    assert names == FileSet[str](
        image="cat.png", audio="hi.wav", pose=["p1.png", "p2.png"], background="bg.png"
    )
    assert names.all() == ["cat.png", "p1.png", "p2.png", "hi.wav", "bg.png"]


def test_a_request_with_files_survives_json() -> None:
    inputs = FileSet[Path](image=Path("x/cat.png"), face=[Path("x/f.png")])
    request = make_request(inputs=inputs)
    again = JobRequest.model_validate_json(request.model_dump_json())
    assert again.inputs == inputs and isinstance(again.inputs.face[0], Path)
