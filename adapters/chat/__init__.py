"""What every chat front end says and does, with no chat library: the texts (`texts`, rendered
through a platform's `Markup`), the throttled card editor (`edits`), the job cards that follow
a job (`cards`), the job actions and the error policy (`actions`), and the video fitted for
delivery (`delivery`). A platform package (`adapters.telegram`, `adapters.discord`) adds only
its library's wiring and its own wording (help, option descriptions); a layering test keeps
this package free of `discord` and `telegram`.
"""
