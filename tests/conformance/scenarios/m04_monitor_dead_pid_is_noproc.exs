Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  pid = :c.pid(0, 999, 0)
  ref = Process.monitor(pid)
  T.out("ref", ref)
  T.settle()
  T.flush()
end)
T.done()
