"""Words too common to say what a mention is about, in English, French and Spanish.

Folded with :func:`bot.core.text.fold`, like the texts they are compared with, so "été" and "ETE"
are one entry. Tokens shorter than three characters are dropped before these are consulted,
which is why "a", "de" or "la" are not listed. Contractions split at the apostrophe ("don't"
is "don" and "t"), so their first halves are here.
"""

from __future__ import annotations

from bot.core.text import fold

__all__ = ["STOPWORDS"]

_ENGLISH = """
about above after again against all also am an and any are aren around because been before
being below between both but can cannot could couldn did didn does doesn doing don down during
each even every few for from further get gets getting got had hadn has hasn have haven having
her here hers herself him himself his how into isn its itself just let like many may more most
much must mustn myself near need needs nor not now off once one only other our ours ourselves
out over own please same shall she should shouldn since some still such than thank thanks that
the their theirs them themselves then there these they this those though through too under
until upon very was wasn way well were weren what when where which while who whom whose why
will with won would wouldn yes yet you your yours yourself yourselves today yesterday tomorrow
really again anyone someone something anything nothing everyone everything always never ever
already back going gone know think want see seen say said day days time week weeks hello
hey guys folks lol omg via http https www com
"""

_FRENCH = """
alors après au aucun aussi autre aux avant avec avoir avons bien bon car ce ceci cela celle
celles celui ces cet cette chez comme comment dans des donc dont du elle elles en encore est
et été être eux fait faire fois ici ils je jour jours juste la le les leur leurs lui mais me
même mes moi mon nos notre nous ont où par parce pas peu peut plus pour pourquoi quand que
quel quelle quelles quels qui quoi rien sans ses seul sont sous sur ta tes toi ton tous tout
toute toutes très trop une vos votre vous merci bonjour depuis déjà encore était étaient
sera serait sommes suis aujourd hui hier demain svp
"""

_SPANISH = """
al algo algunas algunos ante antes aquí así aun aunque bien cada como con contra cual cuando
del desde donde dos el ella ellas ellos en entre era eran es esa esas ese eso esos esta está
están estas este esto estos fue fueron gracias hay hasta hola las les los más mas me mi mis
mucho muy nada ni no nos nosotros nuestra nuestro otra otro para pero poco por porque qué que
quien se sea ser si sí sin sobre solo son su sus también tan tanto te tiene tienen todo todos
tu tus una uno unos usted ustedes ya hoy ayer mañana favor
"""

STOPWORDS: frozenset[str] = frozenset(fold(w) for w in f"{_ENGLISH} {_FRENCH} {_SPANISH}".split())
