"""Shared route dependencies: the one ChatService the app was created with."""

from __future__ import annotations

from fastapi import Request

from rag_oracle.chat import ChatService


def get_service(request: Request) -> ChatService:
    return request.app.state.service
