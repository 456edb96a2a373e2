# SPDX-License-Identifier: AGPL-3.0-or-later
"""Render the jinja2 templates of synapse_config/ strictly and check the result is YAML."""

from pathlib import Path
from typing import Any

import jinja2
import yaml

from homeserver.errors import LauncherError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "synapse_config"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a template (e.g. nginx.conf); LauncherError if it cannot be rendered."""
    try:
        return _environment().get_template(template_name).render(**context)
    except jinja2.TemplateError as e:
        raise LauncherError(f"cannot render {template_name}: {e}") from e


def render_yaml(template_name: str, context: dict[str, Any]) -> str:
    """Render a template; raise LauncherError unless the text parses as a YAML mapping."""
    text = render_text(template_name, context)
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise LauncherError(f"{template_name} rendered invalid YAML: {e}") from e
    if not isinstance(parsed, dict):
        raise LauncherError(f"{template_name} did not render a YAML mapping")
    return text


def template_names() -> list[str]:
    """The templates `init` renders for every data directory (the worker templates
    under workers/ take a worker's context: homeserver/worker_files.py)."""
    return sorted(p.name for p in TEMPLATE_DIR.glob("*.j2"))
