Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  task = Task.async(fn -> receive do :go -> 6 * 7 end end)
  T.out("owner", task.owner == self())
  T.out("linked", task.pid in T.info(self(), :links))
  send(task.pid, :go)
  T.out("await", Task.await(task))
  T.settle()
  T.flush()
  T.out("monitors", T.info(self(), :monitors))
end)
T.done()
