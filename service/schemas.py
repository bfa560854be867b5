"""The API's bodies as pydantic models: they validate requests and generate /openapi.json's components.

Limits come from the settings and topic ids from the serving model's taxonomy, so the models are
built per app by :func:`build_contract` (and cached): the schema a client reads is the rule the
service applies. Request models are closed (unknown fields are refused). Responses are built as
plain dicts by the model layer; the response models describe them, and the tests check real
answers against them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from model.taxonomy import MATCHES

MAX_FEEDBACK_LIST = 1000
MAX_ID_CHARS = 200  # an item's id, in a classify batch or a correction
MAX_VERSION_CHARS = 64
MAX_NOTE_CHARS = 2000
# A date, or a date-time with optional seconds, fraction and offset (what `since` parses).
SINCE_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$"


class Closed(BaseModel):
    """A request body: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="allow")


# Whitespace as JSON Schema's regular expressions (ECMA-262) know it, so that the "pattern" a
# client validates against and the check here agree on every character.
_BLANK = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = f"[^{_BLANK}]"
_NOT_BLANK = re.compile(NOT_BLANK)


def _not_blank(value: str) -> str:
    if not _NOT_BLANK.search(value):
        raise PydanticCustomError("empty_text", "is empty or only whitespace")
    return value


def text_type(max_chars: int) -> Any:
    """A non-blank string of at most ``max_chars`` characters (strict strings refuse lone surrogates)."""
    return Annotated[
        StrictStr,
        StringConstraints(max_length=max_chars),
        AfterValidator(_not_blank),
        Field(json_schema_extra={"minLength": 1, "pattern": NOT_BLANK}),
    ]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def absent_or(description: str | None = None) -> Any:
    """A response field that is left out when it has nothing to say (never null)."""
    return Field(None, description=description, json_schema_extra=_no_default)


def _integral(value: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def one_of(values: tuple[str, ...], error: str, what: str) -> Any:
    """A string that must be one of ``values``; anything else is the custom error ``error``."""

    def check(value: str) -> str:
        if value not in values:
            message = f"unknown {what} {value!r}; known: {', '.join(values)}"
            raise PydanticCustomError(error, "{message}", {"message": message})
        return value

    return Annotated[StrictStr, AfterValidator(check), Field(json_schema_extra={"enum": list(values)})]


@dataclass(frozen=True)
class Limits:
    """What the contract depends on: the settings' limits and the serving taxonomy's topic ids."""

    max_text_chars: int
    max_batch: int
    max_page_chars: int
    topic_ids: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    """The request and response models of one app."""

    requests: dict[str, type[BaseModel]]
    responses: dict[str, type[BaseModel]]
    classify_inputs: dict[str, type[BaseModel]]  # input field -> request model


@functools.cache
def build_contract(limits: Limits) -> Contract:
    """Every model of the API for these limits and topics."""
    Text = text_type(limits.max_text_chars)
    TopicId = Literal[limits.topic_ids]  # type: ignore[valid-type]
    RequestTopic = one_of(limits.topic_ids, "unknown_topic", "topic")
    TopK = Annotated[int, Strict(), Field(ge=1, le=len(limits.topic_ids)), BeforeValidator(_integral)]

    def batch_of(kind: Any) -> Any:
        return Annotated[list[kind], Field(min_length=1, max_length=limits.max_batch)]

    PayloadFormat = one_of(("json", "ninjs"), "invalid_format", "format")
    FORMAT_HELP = "json: newstag's answer; ninjs: IPTC ninjs 3.1 news items (explain and top_k do not apply)"

    class Options(Closed):
        top_k: TopK | None = Field(None, description="list only the best N topics")
        explain: StrictBool = Field(True, description="add the deciding terms")
        format: PayloadFormat = Field("json", description=FORMAT_HELP)

    class ClassifyText(Options):
        """Tag one text."""

        text: Text

    class ClassifyTexts(Options):
        """Tag a batch of texts; results come back in order."""

        texts: batch_of(Text)

    class ClassifyItem(Closed):
        id: text_type(MAX_ID_CHARS) | StrictInt  # not blank, as the schema says (minLength, pattern)
        text: Text

    class ClassifyItems(Options):
        """Tag a batch of texts with ids; results carry the ids."""

        items: batch_of(ClassifyItem)

    class TagPageRequest(Closed):
        """A pasted page."""

        text: text_type(limits.max_page_chars)
        explain: StrictBool = True
        format: PayloadFormat = Field("json", description=FORMAT_HELP)

    class FeedbackRequest(Closed):
        """An editor's correction of one text; topic null says it belongs to none of the topics."""

        text: Text
        topic: RequestTopic | None
        also: list[RequestTopic] = Field(default_factory=list, description="other topics an editor would accept")
        kind: one_of(("item", "paragraph"), "invalid_kind", "kind") = "item"
        predicted: RequestTopic | None = None
        model_version: text_type(MAX_VERSION_CHARS) | None = None
        item_id: text_type(MAX_ID_CHARS) | None = None
        note: text_type(MAX_NOTE_CHARS) | None = None

        model_config = ConfigDict(
            # "None of ours" has no other acceptable topic: say so to clients, as the check below does.
            json_schema_extra={
                "if": {"properties": {"topic": {"type": "null"}}, "required": ["topic"]},
                "then": {"properties": {"also": {"maxItems": 0}}},
            }
        )

        @model_validator(mode="after")
        def _also_fits_topic(self):
            if self.also and self.topic is None:
                raise PydanticCustomError("invalid_also", "'also' lists other topics only when 'topic' names one")
            # The topic itself or a repeat in 'also' adds nothing: keep each other topic once.
            self.also = list(dict.fromkeys(t for t in self.also if t != self.topic))
            return self

    class FeedbackQuery(BaseModel):  # query parameters: unknown ones are ignored
        since: Annotated[StrictStr, Field(pattern=SINCE_PATTERN)] | None = Field(
            None, description="RFC 3339 date-time; an ISO 8601 date such as 2026-11-01 is accepted too"
        )
        limit: Annotated[int, Field(ge=1, le=MAX_FEEDBACK_LIST)] = 100

    class ReloadRequest(Closed):
        """Which version to serve: a version directory or id inside the model root (default: its current)."""

        model: StrictStr | None = None
        force: StrictBool = False

    # -- responses ---------------------------------------------------------------------------

    class TopicScore(BaseModel):
        topic: TopicId
        name: str
        score: Annotated[float, Field(ge=0, le=1)]

    class Term(BaseModel):
        term: str
        weight: float
        spans: list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]]

    class Place(BaseModel):
        """A place the text names."""

        adcode: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the division's 6-digit code")]
        name: str
        level: Literal["province", "city", "county"]
        path: Annotated[list[str], Field(min_length=1, max_length=3, description="names from the province down")]
        spans: list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]] = Field(
            description="[start, end) character offsets into the tagged text; empty when the place was inferred"
        )

    class TopicAnswer(BaseModel):  # what every answer for a text holds; not a component of its own
        topic: TopicId
        name: str
        score: Annotated[float, Field(ge=0, le=1)]
        labels: list[TopicId]
        needs_review: bool
        topics: Annotated[list[TopicScore], Field(min_length=1)]
        explanation: list[Term] | None = None

    class Prediction(TopicAnswer):
        id: StrictStr | StrictInt | None = Field(None, description="the item's id, when items were sent")
        places: list[Place] = Field(description="the places the text names, most likely location of the story first")

    class ParagraphPrediction(TopicAnswer):
        text: str

    class PageItem(Prediction):
        id: Annotated[str, Field(pattern=r"^item-[0-9]+$")]
        section: str | None
        headline: str | None
        subtitle: str | None
        byline: str | None
        text: str
        paragraphs: list[ParagraphPrediction]

    class ClassifyResponse(BaseModel):
        model_version: str
        results: list[Prediction]

    class TagPageResponse(BaseModel):
        model_version: str
        items: list[PageItem]

    # -- ninjs: the answer to "format": "ninjs" (what newstag writes of IPTC's ninjs 3.1) -------

    class NinjsStandard(BaseModel):
        name: Literal["ninjs"]
        version: Literal["3.1"]
        schema_: str = Field(alias="schema")

    class NinjsHeadline(BaseModel):
        role: Literal["main", "sub"]
        value: str

    class NinjsBody(BaseModel):
        role: Literal["main"]
        contentType: Literal["text/plain"]
        charCount: Annotated[int, Field(ge=0)]
        value: str

    class NinjsSubject(BaseModel):
        """A topic's IPTC Media Topic (or newstag's own concept where IPTC has none)."""

        uri: str = Field(description="http://cv.iptc.org/newscodes/mediatopic/<code>, or urn:newstag:topic:<id>")
        name: str = absent_or("the zh-Hans label (English where IPTC has none)")
        literal: Annotated[str, Field(pattern=r"^medtop:[0-9]{8}$")] = absent_or("the QCode")
        rel: Literal["classifies"]
        creator: str = Field(description="newstag model <version>")
        confidence: Annotated[int, Field(ge=0, le=100)] = absent_or("round(score × 100)")

    class NinjsPlace(BaseModel):
        name: str
        literal: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the division's 6-digit code")]
        rel: Literal["about", "mentions"] = Field(description="about: where the story happened; mentions: others")

    class NinjsItem(Open):
        """An IPTC ninjs 3.1 news item (http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json)."""

        uri: str = Field(
            description="urn:newstag:item:<id> (on a page: urn:newstag:item:page-<hash>:item-N), "
            "or urn:newstag:text:sha256:<hash> for a text sent without an id"
        )
        type: Literal["text"]
        standard: NinjsStandard
        language: str
        headlines: list[NinjsHeadline] = absent_or()
        by: str = absent_or()
        bodies: list[NinjsBody]
        subjects: list[NinjsSubject] = absent_or()
        places: list[NinjsPlace] = absent_or()
        edNote: str = absent_or("set when the item needs review, saying why")

    class NinjsResponse(BaseModel):
        """The answer to "format": "ninjs"."""

        model_version: str
        items: list[NinjsItem]

    class TopicSubject(BaseModel):
        """A concept in the news industry's vocabularies that a topic maps to."""

        code: Annotated[str, Field(pattern=r"^[0-9]{8}$")] = absent_or("IPTC Media Topic code")
        uri: str
        name: dict[str, str] = absent_or("labels by language tag (en, zh-Hans)")
        match: Literal[MATCHES] = absent_or("SKOS mapping relation from the topic to the concept")

    class Topic(BaseModel):
        id: TopicId
        name: str
        description: str
        iptc: list[TopicSubject] = absent_or("IPTC Media Topics (or newstag's own concepts)")

    class Topics(BaseModel):
        topics: list[Topic]

    class ModelInfo(Open):
        model_version: str
        created: str
        corpus: dict
        metrics: dict
        libraries: dict

    class Health(BaseModel):
        status: Literal["ok"]

    class Ready(BaseModel):
        status: Literal["ready"]
        model_version: str
        worker: int = Field(description="the answering process")

    class ExtractResponse(BaseModel):
        text: str
        filename: str
        characters: Annotated[int, Field(ge=1)]

    class FeedbackCreated(BaseModel):
        id: int
        created_at: str
        editor: str
        topic: TopicId | None

    class StoredCorrection(BaseModel):
        id: int
        created_at: str
        editor: str
        text: str
        topic: str | None
        also: list[str] = []
        kind: str
        predicted: str | None = None
        model_version: str | None = None
        item_id: str | None = None
        note: str | None = None

    class FeedbackList(BaseModel):
        corrections: list[StoredCorrection]

    class ReloadResponse(BaseModel):
        model_version: str
        previous_version: str | None

    class ErrorDetail(Open):
        code: str
        message: str

    class Error(BaseModel):
        error: ErrorDetail

    classify = {"text": ClassifyText, "texts": ClassifyTexts, "items": ClassifyItems}
    requests = {
        m.__name__: m for m in (*classify.values(), TagPageRequest, FeedbackRequest, FeedbackQuery, ReloadRequest)
    }
    responses = {
        m.__name__: m
        for m in (
            ClassifyResponse,
            TagPageResponse,
            NinjsResponse,
            Topics,
            ModelInfo,
            Health,
            Ready,
            ExtractResponse,
            FeedbackCreated,
            FeedbackList,
            ReloadResponse,
            Error,
        )
    }
    return Contract(requests, responses, classify)
