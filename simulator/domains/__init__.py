"""simulator.domains"""
