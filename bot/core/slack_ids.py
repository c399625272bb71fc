"""Every Slack id Engage defines, in one place: action, block and callback ids, metadata."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CLAIM = "engage.claim"
    RELEASE = "engage.release"
    ANSWERED = "engage.answered"
    HAND_OVER = "engage.hand_over"
    DISMISS = "engage.dismiss"
    OPEN_ORIGINAL = "engage.open_original"
    RETRY_REPLY = "engage.retry_reply"
    # A reminder's two snooze buttons share one actions block, where Slack wants distinct
    # action_ids; SNOOZE is what reminders sent before that carry, and is still heard.
    SNOOZE = "engage.snooze"
    SNOOZE_HOUR = "engage.snooze.hour"
    SNOOZE_TOMORROW = "engage.snooze.tomorrow"
    STILL_ON_IT = "engage.still_on_it"
    HAND_BACK = "engage.hand_back"
    NEED_HELP = "engage.need_help"
    POST_SUMMARY = "engage.post_summary"
    RULES_OPEN = "engage.rules.open"  # App Home: the rules modal
    RULES_ADD = "engage.rules.add"
    RULES_TEST = "engage.rules.test"
    RULES_HISTORY = "engage.rules.history"
    RULES_PAGE = "engage.rules.page"  # the previous page; the next is RULES_PAGE_NEXT
    RULES_PAGE_NEXT = "engage.rules.page.next"  # (both in one actions block: distinct ids)
    RULE_MENU = "engage.rules.menu"  # a rule's overflow: edit, move, enable/disable, retire
    SUGGESTION_ADD = "engage.rules.suggestion_add"
    SUGGESTION_NEW = "engage.rules.suggestion_new"
    DELIVERY_RETRY = "engage.delivery.retry"  # App Home: a failed delivery's id, or "all"
    PRIVACY_ERASE = "engage.privacy.erase"  # confirms `/engage privacy erase`: the identities
    # Answering (bot/answering): the Answered modal's saved-reply menu (an external select),
    # the management list's add button and per-reply menu, and a draft card's three buttons.
    SAVED_REPLY = "engage.answer.saved_reply"
    REPLIES_ADD = "engage.replies.add"
    REPLY_MENU = "engage.replies.menu"
    APPROVAL_APPROVE = "engage.approval.approve"
    APPROVAL_EDIT = "engage.approval.edit"
    APPROVAL_SEND_BACK = "engage.approval.send_back"
    URGENT_ACK = "engage.urgent.ack"  # a page's Acknowledge: stops the escalation
    URGENT_DOWNGRADE = "engage.urgent.downgrade"  # "Not urgent", on a page or on the card


class CallbackId(StrEnum):
    ANSWER = "engage.answer_modal"
    HAND_OVER = "engage.hand_over_modal"
    DISMISS = "engage.dismiss_modal"
    RULES = "engage.rules_modal"
    RULE_FORM = "engage.rule_form"
    RULE_RETIRE = "engage.rule_retire"
    RULE_TEST = "engage.rule_test"
    RULES_HISTORY = "engage.rules_history"
    REPLIES = "engage.replies_modal"
    REPLY_FORM = "engage.reply_form"
    APPROVAL_EDIT = "engage.approval_edit"
    APPROVAL_SEND_BACK = "engage.approval_send_back"


class BlockId(StrEnum):
    CARD_TEXT = "engage.card.text"
    CARD_META = "engage.card.meta"
    CARD_STATUS = "engage.card.status"
    CARD_ACTIONS = "engage.card.actions"
    ANSWER_TEXT = "engage.answer.text"
    DEPARTMENT = "engage.hand_over.department"
    NOTE = "engage.note"
    REASON = "engage.dismiss.reason"
    REPLY_ON = "engage.answer.reply_on"
    SAVED_REPLY = "engage.answer.saved"  # the Answered modal's saved-reply menu
    # The claimer's check-in buttons for one mention: "<CHECK_IN>:<mention id>", one a mention.
    CHECK_IN = "engage.check_in"


class InputId(StrEnum):
    ANSWER_TEXT = "answer_text"
    DEPARTMENT = "department"
    NOTE = "note"
    REASON = "reason"
    REPLY_ON = "reply_on"


COMMAND = "/engage"
# The message metadata event type that carries the outbox id of every message Engage posts.
CARD_EVENT_TYPE = "engage_message"
