"""``Say``: the id of every sentence the bot says, with the placeholders its text takes.

The texts live in the catalogues (``responses.yaml`` and one per language), read by
``knowledge.responses``; this enum is what the code may ask them for.
"""

from __future__ import annotations

from enum import StrEnum


class Say(StrEnum):
    """Every sentence id the code uses; a member's extra values are its placeholders."""

    _value_: str
    placeholders: frozenset[str]

    def __new__(cls, value: str, *placeholders: str) -> Say:
        member = str.__new__(cls, value)
        member._value_ = value
        member.placeholders = frozenset(placeholders)
        return member

    # greeting and help
    WELCOME = "welcome", "name"
    WELCOME_NAMELESS = "welcome_nameless"
    WELCOME_BACK_WAITING = "welcome_back_waiting", "name", "ref"
    WELCOME_BACK_WAITING_NAMELESS = "welcome_back_waiting_nameless", "ref"
    HELP = "help"
    HELP_NO_LIVE = "help_no_live"
    YOURE_WELCOME = "youre_welcome"
    GOODBYE = "goodbye"
    START_OVER = "start_over"
    LANGUAGE_QUESTION = "language_question"
    LANGUAGE_SET = "language_set"  # nothing is waiting: "tell me what is wrong"
    LANGUAGE_SWITCHED = "language_switched"  # before the question waiting, asked again
    # describing the problem
    DESCRIBE_PROMPT = "describe_prompt"
    DESCRIBE_TOO_SHORT = "describe_too_short"
    PHOTO_NEEDS_WORDS = "photo_needs_words"
    ONLY_TEXT = "only_text"
    TEXT_SHORTENED = "text_shortened"
    # matching
    FIX = "fix", "title", "fix"
    FIX_NEXT = "fix_next", "title", "fix"
    FIXED_QUESTION = "fixed_question"
    ANSWER = "answer", "title", "text"
    ANSWERED_QUESTION = "answered_question"
    ANSWERED_QUESTION_AGAIN = "answered_question_again"
    DID_YOU_MEAN = "did_you_mean"
    NO_MATCH_REPHRASE = "no_match_rephrase"
    NO_MATCH_REPHRASE_NO_LIVE = "no_match_rephrase_no_live"
    NONE_REPHRASE = "none_rephrase"
    # outcome
    GLAD_FIXED = "glad_fixed", "ref"
    GLAD_ANSWERED = "glad_answered", "ref"
    FIXED_QUESTION_AGAIN = "fixed_question_again"
    # replacement
    REPLACEMENT_OFFER = "replacement_offer"
    REPLACEMENT_START = "replacement_start"  # kind: replacement: nothing was tried first
    ORDER_NUMBER_INVALID = "order_number_invalid"
    PURCHASE_DATE_QUESTION = "purchase_date_question"
    PURCHASE_DATE_INVALID = "purchase_date_invalid"
    PURCHASE_DATE_FUTURE = "purchase_date_future"
    REPLACEMENT_RECORDED = "replacement_recorded", "order", "ref"
    REPLACEMENT_NOT_ELIGIBLE = "replacement_not_eligible", "days"
    REPLACEMENT_NOT_ELIGIBLE_NO_LIVE = "replacement_not_eligible_no_live", "days"
    REPLACEMENT_NOTED = "replacement_noted", "order", "ref", "contact"
    REPLACEMENT_NOTED_NO_CONTACT = "replacement_noted_no_contact", "order", "ref"
    ORDER_NUMBER_HELP = "order_number_help"
    ORDER_NUMBER_HELP_NO_LIVE = "order_number_help_no_live"
    PURCHASE_DATE_WHICH = "purchase_date_which", "first", "second"
    # a person
    ESCALATED = "escalated", "ref"
    ESCALATED_NO_MATCH = "escalated_no_match", "ref"
    WITH_AGENT_ACK = "with_agent_ack", "ref"
    QUEUE_PLACE = "queue_place", "position"
    QUEUE_TYPICAL_WAIT = "queue_typical_wait", "wait"
    QUEUE_TYPICAL_WAIT_ONCE_BACK = "queue_typical_wait_once_back", "wait"
    TEAM_AWAY = "team_away", "day", "time", "zone"
    ALREADY_WITH_AGENT = "already_with_agent", "ref"
    # back soon after a resolution
    REOPEN_QUESTION = "reopen_question", "ref"
    REOPEN_QUESTION_AGAIN = "reopen_question_again", "ref"
    OPEN_TICKET_QUESTION = "open_ticket_question", "ref"
    REOPENED = "reopened", "ref"
    # the bot comes back to make sure
    FOLLOWUP_QUESTION = "followup_question", "ref", "summary"
    FOLLOWUP_WHEN = "followup_when"
    FOLLOWUP_LATER_SET = "followup_later_set", "wait"
    FOLLOWUP_ALREADY_ANSWERED = "followup_already_answered", "ref"
    FOLLOWUP_EXPIRED = "followup_expired"
    RATING_QUESTION = "rating_question", "ref"
    RATING_COMMENT_QUESTION = "rating_comment_question"
    RATING_THANKS = "rating_thanks"
    RATING_ALREADY = "rating_already", "ref"
    # nobody answers here (ESCALATION=off)
    NO_LIVE_SUPPORT = "no_live_support", "ref", "contact"
    NO_LIVE_SUPPORT_NO_CONTACT = "no_live_support_no_contact", "ref"
    # commands
    CANCELLED = "cancelled"
    CANCELLED_REQUEST = "cancelled_request", "ref"
    CANCEL_CONFIRM = "cancel_confirm", "ref"
    CANCEL_KEPT = "cancel_kept", "ref"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    STATUS_HEADER = "status_header"
    STATUS_LINE = "status_line", "ref", "summary", "state"
    STATUS_NONE = "status_none"
    STATUS_NO_LIVE = "status_no_live", "contact"  # ESCALATION=off: how to reach the shop
    STATUS_NO_LIVE_NO_CONTACT = "status_no_live_no_contact"
    # a ticket's summary when the customer asked for a person before describing anything
    SUMMARY_ASKED_FOR_PERSON = "summary_asked_for_person"
    STATUS_RATED = "status_rated", "state", "stars"
    UNKNOWN_COMMAND = "unknown_command"
    CHOICE_EXPIRED = "choice_expired"
    SOMETHING_WENT_WRONG = "something_went_wrong"  # no admin was told (no ADMIN_IDS)
    SOMETHING_WENT_WRONG_TEAM_TOLD = "something_went_wrong_team_told"
    # ticket states as the customer reads them
    STATE_OPEN = "state_open"
    STATE_WAITING_AGENT = "state_waiting_agent"
    STATE_WITH_AGENT = "state_with_agent"
    STATE_REOPENED = "state_reopened"
    STATE_NOTED = "state_noted"
    STATE_REPLACEMENT_NOTED = "state_replacement_noted"  # ESCALATION=off: nobody confirms
    STATE_REPLACEMENT_REQUESTED = "state_replacement_requested"
    STATE_RESOLVED = "state_resolved"
    STATE_CANCELLED = "state_cancelled"
    # button labels (plain text)
    YES_BUTTON = "yes_button"
    NO_BUTTON = "no_button"
    YES_ANSWERED_BUTTON = "yes_answered_button"
    NO_ANSWERED_BUTTON = "no_answered_button"
    NONE_BUTTON = "none_button"
    HUMAN_BUTTON = "human_button"
    PICK_BUTTON = "pick_button", "title"
    REOPEN_ABOUT_BUTTON = "reopen_about_button", "ref"
    REOPEN_NEW_BUTTON = "reopen_new_button"
    CANCEL_YES_BUTTON = "cancel_yes_button"
    CANCEL_NO_BUTTON = "cancel_no_button"
    NO_ORDER_NUMBER_BUTTON = "no_order_number_button"
    DATE_BUTTON = "date_button", "date"
    FOLLOWUP_YES_BUTTON = "followup_yes_button"
    FOLLOWUP_NO_BUTTON = "followup_no_button"
    FOLLOWUP_LATER_BUTTON = "followup_later_button"
    LATER_TOMORROW_BUTTON = "later_tomorrow_button"
    LATER_3_DAYS_BUTTON = "later_3_days_button"
    LATER_WEEK_BUTTON = "later_week_button"
    SKIP_BUTTON = "skip_button"
    # the customers' command menu in Telegram (plain text, at most 256 characters)
    MENU_START = "menu_start"
    MENU_STATUS = "menu_status"
    MENU_CANCEL = "menu_cancel"
    MENU_LANGUAGE = "menu_language"
    MENU_HELP = "menu_help"
    # for the support team (agent chat)
    AGENT_CARD = (
        "agent_card",
        "ref",
        "reason",
        "customer",
        "language",
        "summary",
        "details",
        "tried",
        "order",
        "purchased",
        "replacement",
        "waited",
    )
    AGENT_TRIED_NO = "agent_tried_no", "entry", "score"
    AGENT_TRIED_NO_ANSWER = "agent_tried_no_answer", "entry", "score"
    AGENT_REPLACEMENT_NOT_ELIGIBLE = "agent_replacement_not_eligible"
    AGENT_REPLACEMENT_UNFINISHED = "agent_replacement_unfinished"
    AGENT_REASON_ASKED = "agent_reason_asked"
    AGENT_REASON_NO_MATCH = "agent_reason_no_match"
    AGENT_REASON_NOT_FIXED = "agent_reason_not_fixed"
    AGENT_REASON_NOT_ELIGIBLE = "agent_reason_not_eligible"
    AGENT_REASON_REOPENED = "agent_reason_reopened"
    AGENT_REASON_NO_ORDER_NUMBER = "agent_reason_no_order_number"
    AGENT_TICKET_REOPENED = "agent_ticket_reopened", "ref", "customer"
    AGENT_FOLLOWUP_NOT_FIXED = "agent_followup_not_fixed", "ref", "customer"
    AGENT_REPLACEMENT_CARD = (
        "agent_replacement_card",
        "ref",
        "customer",
        "title",
        "order",
        "purchased",
        "age",
        "days",
    )
    AGENT_CUSTOMER_MESSAGE = "agent_customer_message", "ref", "customer", "text"
    AGENT_CUSTOMER_CANCELLED = "agent_customer_cancelled", "ref"
    AGENT_NOTHING = "agent_nothing"
    # what the team does reaches the customer
    TEAM_SAYS = "team_says", "name", "text"
    TEAM_SAYS_ANONYMOUS = "team_says_anonymous", "text"
    TEAM_TOOK = "team_took", "name", "ref"
    TEAM_TOOK_ANONYMOUS = "team_took_anonymous", "ref"
    TEAM_RESOLVED = "team_resolved", "ref"
    TEAM_CLOSED = "team_closed", "ref"
    TEAM_REPLACEMENT_APPROVED = "team_replacement_approved", "ref"
    TEAM_REPLACEMENT_DENIED = "team_replacement_denied", "ref", "reason"
    # the bot answers the team in its chat
    DESK_NOT_ALLOWED = "desk_not_allowed"
    DESK_USE_IN_TOPIC = "desk_use_in_topic", "command"
    DESK_UNKNOWN_COMMAND = "desk_unknown_command"
    DESK_TICKET_DONE = "desk_ticket_done", "ref", "state"
    DESK_TOOK = "desk_took", "ref", "name"
    DESK_RESOLVED = "desk_resolved", "ref", "name"
    DESK_CLOSED = "desk_closed", "ref", "name"
    DESK_APPROVED = "desk_approved", "ref", "name"
    DESK_DENIED = "desk_denied", "ref", "name"
    DESK_NO_REPLACEMENT = "desk_no_replacement", "ref"
    DESK_DENY_NEEDS_REASON = "desk_deny_needs_reason"
    DESK_FIX_SENT = "desk_fix_sent", "ref", "title", "name"
    DESK_UNKNOWN_ENTRY = "desk_unknown_entry", "entry"
    DESK_QUEUE_HEADER = "desk_queue_header", "count"
    DESK_QUEUE_LINE = "desk_queue_line", "ref", "waited", "holder", "summary"
    DESK_QUEUE_EMPTY = "desk_queue_empty"
    DESK_NOBODY = "desk_nobody"
    # for admins, in a private chat
    ADMIN_AGENT_CHAT_LOST = "admin_agent_chat_lost", "chat", "count"
    ADMIN_KNOWLEDGE_BROKEN = "admin_knowledge_broken", "problems", "entries"
    ADMIN_UPDATE_SET_ASIDE = "admin_update_set_aside", "update", "chat", "error"
    # admin commands (/stats, /unmatched, /reload), in a private chat or the team's chat
    ADMIN_ONLY = "admin_only", "command"
    ADMIN_FAILED = "admin_failed", "command"
    ADMIN_STATS = (
        "admin_stats",
        "period",
        "tickets",
        "bot_resolved",
        "handed_off",
        "first_response",
        "resolution",
        "csat",
        "reopened",
        "unmatched",
    )
    ADMIN_NONE_YET = "admin_none_yet"  # a figure with nothing to measure yet
    ADMIN_CSAT = "admin_csat", "average", "count"
    ADMIN_UNMATCHED_HEADER = "admin_unmatched_header", "period", "count", "groups"
    ADMIN_UNMATCHED_GROUP = "admin_unmatched_group", "size", "examples", "closest"
    ADMIN_UNMATCHED_CLOSEST = "admin_unmatched_closest", "entry", "score"
    ADMIN_UNMATCHED_NEW = "admin_unmatched_new"
    ADMIN_UNMATCHED_NONE = "admin_unmatched_none", "period"
    ADMIN_PERIOD_UNREADABLE = "admin_period_unreadable", "command", "text"
    ADMIN_PERIOD_EMPTY = "admin_period_empty", "command", "text"  # 0d, or a time to come
    ADMIN_RELOADED = "admin_reloaded", "entries"
    ADMIN_RELOAD_UNCHANGED = "admin_reload_unchanged", "entries"
