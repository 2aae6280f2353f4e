"""The whiteboard client's words, translated on the server and handed to the page as JSON."""

from __future__ import annotations

from flask_babel import gettext as _


def client_strings() -> dict[str, str]:
    """Return the strings static/src/whiteboard/strings.js reads; placeholders are {name}."""
    return {
        "label": _("Whiteboard"),
        "canvas_label": _("Shared whiteboard drawing"),
        "tools_label": _("Drawing tools"),
        "tool_pen": _("Pen"),
        "tool_highlighter": _("Highlighter"),
        "tool_eraser": _("Eraser"),
        "tool_line": _("Line"),
        "tool_rect": _("Rectangle"),
        "tool_ellipse": _("Ellipse"),
        "tool_text": _("Text"),
        "tool_laser": _("Laser pointer"),
        "style_label": _("Colour and width"),
        "colors_label": _("Colour"),
        "color_black": _("Black"),
        "color_blue": _("Blue"),
        "color_red": _("Red"),
        "color_green": _("Green"),
        "color_yellow": _("Yellow"),
        "color_purple": _("Purple"),
        "widths_label": _("Line width"),
        "width_thin": _("Thin"),
        "width_medium": _("Medium"),
        "width_thick": _("Thick"),
        "actions_label": _("Edit"),
        "undo": _("Undo"),
        "redo": _("Redo"),
        "clear_page": _("Clear page"),
        "clear_confirm": _("Clear this page for everyone?"),
        "zoom_fit": _("Fit page to screen"),
        "export_png": _("Download page as PNG"),
        "export_filename": _("whiteboard-{session}-page-{page}.png"),
        "pages_label": _("Pages"),
        "page_previous": _("Previous page"),
        "page_next": _("Next page"),
        "page_add": _("Add a page"),
        "page_of": _("Page {page} of {pages}"),
        "text_prompt": _("Text to add"),
        "text_add": _("Add"),
        "text_cancel": _("Cancel"),
        "status_connecting": _("Connecting to the whiteboard…"),
        "status_connected": _("Whiteboard connected."),
        "status_reconnecting": _("Connection lost. Reconnecting…"),
        "status_refused": _("You cannot use this whiteboard now."),
        "status_failed": _("A change could not be saved."),
        "status_unsent": _("{count} strokes not sent yet."),
    }
