"""simulator.domains.bankslips"""
