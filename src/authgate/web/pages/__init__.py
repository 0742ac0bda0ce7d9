"""What the HTML pages share: templates, forms and CSRF, cookies and flash messages, who the visitor is, confirmations and lists."""
