"""The App Home: each person's claims and waiting mentions, and for the comms team failed
deliveries (with Retry), the rules, misroutes, hand-over suggestions and source health.
"""
