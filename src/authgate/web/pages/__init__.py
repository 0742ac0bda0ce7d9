"""What the HTML pages share: templates, forms and CSRF, cookies and flash messages, who the visitor is, confirmations and lists."""

from authgate.web.pages import record_ids as _registers_the_id_path_convertor  # noqa: F401  ({name:id} in routes)
