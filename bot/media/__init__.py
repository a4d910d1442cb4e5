"""Media handling: input photos, audio and frame sets made ready for ComfyUI; output videos
probed, thumbnailed and fitted under upload limits; the parameter summary.

Every public function that touches a file is async and does the work in a thread.
"""
