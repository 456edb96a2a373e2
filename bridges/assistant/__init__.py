# SPDX-License-Identifier: AGPL-3.0-or-later
"""The AI assistant (智能助手): a bot officers chat with, on the bureau's own large
language model (an OpenAI-compatible chat-completions endpoint). An application service
of its own (`python -m bridges.assistant run`); docs/assistant.md."""
