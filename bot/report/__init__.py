"""The public report: how widely and how fast the city answers its citizens, per department
and city-wide, as a static HTML page with CSV and JSON (:mod:`.service`), from the summaries'
own figures made safe to publish (:mod:`.figures`), drawn by :mod:`.html`."""
