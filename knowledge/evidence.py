"""What the lexical matcher needs, beyond a high score, to answer with an entry directly.

The score says how well an entry explains the words; it cannot see that they say too little to
pick one entry, nor that they name another product. One word the knowledge holds in a single
phrasing ("it's broken", "сломалось") scores that entry as high as a full description, and
"my speaker smells like burning plastic" is explained best, word for word, by the charger's
"charger smells like burning plastic". So an ANSWER also needs the following, unless the text
is a near-duplicate of one of the entry's phrasings (the matcher checks that); else it is a
SUGGEST ("Did you mean ...?") and the customer chooses:

- **No other product**: a text that names products, none of them the entry's, is not answered
  with it. A product word the entry itself uses ("an invoice for my order") does not count.
- **Words that pick it**: two *informative* words shared with the entry -- neither a product's
  nor common -- where one said of entries of three products or more ("stopped", "working",
  "dead": any product can be) counts half. One is enough when the text names the entry's
  product, or when the word is the entry's topic (in half its phrasings: "leaking" for "the
  kettle leaks"). An entry whose remedy is a replacement (``kind: replacement``) always needs
  two: a replacement started from "my watch is broken" is worse than a question. It also
  needs its product named, where the knowledge has words for it: "my phone screen is
  cracked" names no product the shop knows, and must not start the watch's replacement.
  The semantic matcher's answers are held to these product rules too (not to the words':
  it backs paraphrases that share no word with the entry).

All of it comes from the knowledge itself, with each entry's ``product``:

- a word of a product (only with two products or more): in two and half of that product's
  entries, and three in four of the entries holding it are that product's ("watch",
  "колонка", the words of its name). A word of the text found in one entry only that is a
  letter or two from one ("колонки") names that product too.
- a common word: in half of all entries ("is", "my", "не", "se").

Measured on the demo knowledge by ``tests/integration/test_vague_messages.py``, and with
``python -m benchmarks.match --quick`` (``benchmarks/README.md``): on intent data (one
product) about 1 % of in-scope questions go from an ANSWER to a SUGGEST, a quarter of them
answered wrongly before.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from knowledge.text import Vocabulary

__all__ = ["Evidence"]

_PRODUCT_SHARE = 0.5  # of a product's entries holding the word, at least
_PRODUCT_PURITY = 0.75  # of the entries holding the word that are the product's, at least
_COMMON_SHARE = 0.5  # of all entries holding the word: "is", "my", "не", "se"
_MANY_PRODUCTS = 3  # a word in entries of this many products may be said of any product
_TOPIC_SHARE = 0.5  # of an entry's phrasings holding a word that is its topic (and two)
_INFORMATIVE_WORDS = 2


class Evidence:
    """Product, common and widespread words of one knowledge base, for ``supports``."""

    def __init__(
        self,
        doc_terms: Sequence[Counter[str]],
        phrasings: Sequence[int],
        products: Sequence[str],
        strict: Sequence[bool],
    ) -> None:
        """Per entry: its words (with how many of its phrasings hold each), its number of
        phrasings, its product, and whether its remedy is a replacement (``strict``)."""
        self._products = tuple(products)
        self._strict = tuple(strict)
        per_product = Counter(self._products)
        holders: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for terms, product in zip(doc_terms, self._products, strict=True):
            for term in terms:
                holders[term][product] += 1
        self._topics = [
            {t for t, n in terms.items() if n >= max(2, _TOPIC_SHARE * count)}
            for terms, count in zip(doc_terms, phrasings, strict=True)
        ]
        self._product_of: dict[str, str] = {}
        for term, by_product in holders.items() if len(per_product) > 1 else ():
            product, count = by_product.most_common(1)[0]
            if (
                count >= 2
                and count >= _PRODUCT_SHARE * per_product[product]
                and count >= _PRODUCT_PURITY * by_product.total()
            ):
                self._product_of[term] = product
        common = _COMMON_SHARE * len(self._products)
        self._common = {t for t, by_product in holders.items() if by_product.total() >= common}
        self._spread = {t: len(by_product) for t, by_product in holders.items()}
        self._rare = {t for t, by_product in holders.items() if by_product.total() == 1}
        self._product_words = Vocabulary(self._product_of)
        self._named_products = set(self._product_of.values())  # products words can name

    def supports(self, doc: int, query: Iterable[str], shared: Iterable[str]) -> bool:
        """Whether an ANSWER with entry ``doc`` is backed by the text's known words (``query``)
        and those of them the entry holds (``shared``)."""
        query, shared = set(query), set(shared)
        if not self.products_fit(doc, query, shared):
            return False
        own = self._products[doc]
        named = {t: p for t in query if (p := self._product(t)) is not None}
        informative = [t for t in shared if t not in self._product_of and t not in self._common]
        if self._strict[doc]:  # its remedy is a replacement
            needed = _INFORMATIVE_WORDS
        else:
            topic = self._topics[doc].intersection(informative)
            needed = _INFORMATIVE_WORDS - (own in named.values() or bool(topic))
        # a word said of entries of many products ("stopped", "working", "dead") counts half
        weight = sum(0.5 if self._spread[t] >= _MANY_PRODUCTS else 1.0 for t in informative)
        return weight >= needed

    def products_fit(self, doc: int, query: Iterable[str], shared: Iterable[str]) -> bool:
        """The products the text names allow an ANSWER with entry ``doc``: none of another
        product's words without the entry's own, and for a replacement its own product named
        ("my phone screen is cracked" must not start the watch's replacement). Also asked of
        the semantic matcher's answers, which paraphrases back but words can't."""
        shared = set(shared)
        own = self._products[doc]
        named = {t: p for t in set(query) if (p := self._product(t)) is not None}
        other = any(t not in shared and p != own for t, p in named.items())
        if other and own not in named.values():
            return False  # another product's words, not the entry's own
        # a replacement needs its product named (where words can name it)
        return not self._strict[doc] or own not in self._named_products or own in named.values()

    def _product(self, term: str) -> str | None:
        """The product a word of the text names, if any."""
        product = self._product_of.get(term)
        if product is None and term in self._rare:
            close = self._product_words.correct(term)
            product = self._product_of[close[0]] if close is not None else None
        return product
